// The boot section: direct Linux boot (kernel, initrd, command line) or EFI firmware, and which
// console the guest reads.
#include <algorithm>
#include <variant>

#include "qemu/command_line/sections.hpp"
#include "vmm/format.hpp"

namespace vmm::qemu {
namespace {

// Whether a word of the kernel command line starts with `prefix`.
bool names_word_prefix(std::string_view line, std::string_view prefix) {
  std::size_t start = 0;
  while (start < line.size()) {
    const std::size_t end = std::min(line.find_first_of(" \t\n", start), line.size());
    if (line.substr(start, end - start).substr(0, prefix.size()) == prefix) return true;
    start = end + 1;
  }
  return false;
}

// Whether the kernel command line already chooses an early console of its own.
bool names_early_console(std::string_view line) {
  return names_word_prefix(line, "earlycon") || names_word_prefix(line, "earlyprintk=");
}

}  // namespace

ConsoleDevice preferred_console(const VmConfig& config) {
  const auto* linux_boot = std::get_if<LinuxBoot>(&config.boot());
  if (linux_boot == nullptr) return ConsoleDevice::serial;
  const std::string line = linux_boot->full_command_line();
  ConsoleDevice device = ConsoleDevice::serial;
  constexpr std::string_view key = "console=";
  std::size_t start = 0;
  while (start < line.size()) {
    const std::size_t end = std::min(line.find_first_of(" \t\n", start), line.size());
    const std::string_view word = std::string_view(line).substr(start, end - start);
    if (word.substr(0, key.size()) == key) {
      device = word.substr(key.size(), 3) == "hvc" ? ConsoleDevice::virtio : ConsoleDevice::serial;
    }
    start = end + 1;
  }
  return device;
}

namespace sections {

Result<void> add_boot(ArgvBuilder& argv, const VmConfig& config, const QemuHostFacts& host,
                      MachineType machine) {
  if (const auto* linux_boot = std::get_if<LinuxBoot>(&config.boot())) {
    argv.add("-kernel", linux_boot->kernel.string());
    if (linux_boot->initrd) argv.add("-initrd", linux_boot->initrd->string());
    std::string append = linux_boot->full_command_line();
    if (machine == MachineType::microvm && host.tsc_khz != 0) {
      // Without HPET or PM timer the guest's TSC calibration hangs at random on microvm.
      if (!append.empty()) append += ' ';
      append += fmt::format("tsc_early_khz={}", host.tsc_khz);
    }
    if (preferred_console(config) == ConsoleDevice::virtio && !names_early_console(append)) {
      // hvc0 exists only once virtio_console probes (a module in most distribution kernels),
      // and the log the kernel replays to it then is lost: virtio_console registers the console
      // before the port can take output (seen with Debian 12's 6.1 kernels). The UART takes the
      // boot log until then; the kernel hands over to hvc0 (bootconsole disabled) on its own.
      if (!append.empty()) append += ' ';
      // The UART: a 16550 at I/O port 0x3f8 on x86, virt's PL011 at 0x09000000 on aarch64.
      append += machine == MachineType::virt ? "earlycon=pl011,0x9000000"
                                             : "earlycon=uart8250,io,0x3f8,115200";
    }
    if (!append.empty()) argv.add("-append", append);
    return {};
  }
  const auto& efi = std::get<EfiBoot>(config.boot());
  if (!host.ovmf_code) {
    const QemuTarget& target = qemu_target(host.arch);
    return unsupported(fmt::format("boot: EFI boot with QEMU needs the UEFI firmware {} "
                                   "(install the Debian package {})",
                                   target.firmware_code, target.firmware_package));
  }
  argv.add("-drive", fmt::format("if=pflash,format=raw,unit=0,readonly=on,file={}",
                                 escape_option_value(host.ovmf_code->string())));
  argv.add("-drive", fmt::format("if=pflash,format=raw,unit=1,file={}",
                                 escape_option_value(efi.variable_store.string())));
  return {};
}

}  // namespace sections
}  // namespace vmm::qemu
