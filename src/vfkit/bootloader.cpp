#include <string>

#include "vfkit/machine.hpp"
#include "vfkit/options.hpp"

namespace vmm::vfkit::detail {
namespace {

Result<void> linux_bootloader(const std::vector<Option>& options, MachineSink& sink) {
  LinuxBoot boot;
  for (const auto& option : options) {
    if (option.key == "kernel") boot.kernel = option.value;
    else if (option.key == "cmdline") boot.command_line = trim_quotes(option.value);
    else if (option.key == "initrd") boot.initrd = option.value;
    else return bad("--bootloader linux: unknown option " + option.key);
  }
  // vfkit leaves an empty initrd out of the machine.
  if (boot.initrd && boot.initrd->empty()) boot.initrd.reset();
  sink.builder.linux_boot(std::move(boot));
  return {};
}

Result<void> efi_bootloader(const std::vector<Option>& options, MachineSink& sink) {
  EfiBoot boot;
  boot.create_if_missing = false;
  for (const auto& option : options) {
    if (option.key == "variable-store") {
      boot.variable_store = option.value;
    } else if (option.key == "create") {
      if (option.has_value)
        return bad("--bootloader efi: unexpected value for create: " + option.value);
      boot.create_if_missing = true;
    } else {
      return bad("--bootloader efi: unknown option " + option.key);
    }
  }
  sink.builder.efi_boot(std::move(boot));
  return {};
}

}  // namespace

Result<void> add_bootloader(const std::vector<std::string>& pieces, MachineSink& sink) {
  if (pieces.empty()) return bad("--bootloader: empty option list");
  const auto& type = pieces.front();
  const auto options = to_options(pieces, 1);
  if (type == "linux") return linux_bootloader(options, sink);
  if (type == "efi") return efi_bootloader(options, sink);
  if (type == "macos")
    return make_error(Errc::unsupported, "--bootloader macos: vmm boots Linux guests only (linux or efi)");
  return bad("--bootloader: unknown bootloader type " + type);
}

}  // namespace vmm::vfkit::detail
