// The QEMU argv (qemu::build_qemu_command_line, a pure function) for any config the JSON reader
// accepts without host checks, on a host that has every optional part (KVM, virtiofsd, vsock,
// UEFI firmware) and with engine paths that hold a comma, as a work directory may.
// Properties: refusals are `unsupported` or `invalid_config`; no argument holds a NUL (execve
// would cut it); every QemuOpts argument parses back (",," is a literal comma) with no key given
// twice, and the values taken from the config come back unchanged: disk serials, share tags,
// virtiofs socket paths, the EFI variable store; each -blockdev is JSON naming its disk's path;
// -kernel and -initrd are the config's paths. So no config value can add or change an option.
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "config/json.hpp"
#include "fuzz_check.hpp"
#include "qemu/command_line.hpp"

namespace {

using Options = std::vector<std::pair<std::string, std::string>>;

// QemuOpts: parts split at single commas; ",," is a literal comma; "key=value", or a bare word
// (the implied first key, e.g. the device driver, or a flag).
Options keyval(std::string_view text) {
  std::vector<std::string> parts(1);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != ',') {
      parts.back() += text[i];
    } else if (i + 1 < text.size() && text[i + 1] == ',') {
      parts.back() += ',';
      ++i;
    } else {
      parts.emplace_back();
    }
  }
  Options options;
  for (const auto& part : parts) {
    const auto eq = part.find('=');
    if (eq == std::string::npos)
      options.emplace_back(part, "");
    else
      options.emplace_back(part.substr(0, eq), part.substr(eq + 1));
  }
  return options;
}

std::optional<std::string> value(const Options& options, std::string_view key) {
  for (const auto& [k, v] : options)
    if (k == key) return v;
  return std::nullopt;
}

bool is_keyval_flag(std::string_view flag) {
  return flag == "-device" || flag == "-chardev" || flag == "-drive" || flag == "-object" ||
         flag == "-netdev" || flag == "-machine" || flag == "-global" || flag == "-mon";
}

vmm::qemu::QemuHostFacts full_host() {
  vmm::qemu::QemuHostFacts host;
  host.binary = "/usr/bin/qemu-system-x86_64";
  host.acceleration = vmm::Acceleration::kvm;
  host.tsc_khz = 2'000'000;
  host.virtiofsd = "/usr/libexec/virtiofsd";
  host.vhost_vsock = true;
  host.kvm_nested = true;
  host.ovmf_code = "/usr/share/OVMF/OVMF_CODE_4M.fd";
  host.ovmf_vars = "/usr/share/OVMF/OVMF_VARS_4M.fd";
  return host;
}

vmm::qemu::QemuRuntimePaths paths_for(const vmm::VmConfig& config) {
  const std::string work = "/tmp/vmm,fuzz=work";
  vmm::qemu::QemuRuntimePaths paths;
  for (std::size_t i = 0; i < config.networks().size(); ++i) {
    const auto& attachment = config.networks()[i].attachment;
    paths.network_fds.push_back(
        std::holds_alternative<vmm::FileHandleNetwork>(attachment) ? 6 + static_cast<int>(i) : -1);
    paths.network_local_sockets.emplace_back(
        std::holds_alternative<vmm::UnixDatagramNetwork>(attachment)
            ? work + "/net" + std::to_string(i)
            : "");
  }
  // Every other disk stands for a block device (the engine's stat, which a fuzzer cannot make).
  for (std::size_t i = 0; i < config.disks().size(); ++i)
    paths.disk_is_block_device.push_back(i % 2 == 1);
  for (std::size_t i = 0; i < config.shares().size(); ++i)
    paths.virtiofs_sockets.emplace_back(work + "/fs" + std::to_string(i) + ".sock");
  return paths;
}

void check_argv(const vmm::VmConfig& config, const vmm::qemu::QemuHostFacts& host,
                const vmm::qemu::QemuRuntimePaths& paths, const std::vector<std::string>& argv) {
  FUZZ_CHECK(!argv.empty() && argv[0] == host.binary.string(), "argv[0] is not the binary");
  std::vector<Options> devices, chardevs, drives;
  std::vector<nlohmann::json> blockdevs;
  std::set<std::string> throttle_groups;
  std::map<std::string, std::string> single;  // -kernel, -initrd, -append
  for (std::size_t i = 0; i < argv.size(); ++i) {
    FUZZ_CHECK(argv[i].find('\0') == std::string::npos, "argument with a NUL: " + argv[i]);
    if (i + 1 >= argv.size()) continue;
    const std::string& flag = argv[i];
    const std::string& arg = argv[i + 1];
    if (flag == "-blockdev") {
      auto node = nlohmann::json::parse(arg, nullptr, false);
      FUZZ_CHECK(node.is_object(), "-blockdev is not a JSON object: " + arg);
      blockdevs.push_back(std::move(node));
    } else if (flag == "-object" && !arg.empty() && arg[0] == '{') {
      auto object = nlohmann::json::parse(arg, nullptr, false);
      FUZZ_CHECK(object.is_object(), "-object is not a JSON object: " + arg);
      if (object.value("qom-type", "") == "throttle-group") {
        FUZZ_CHECK(throttle_groups.insert(object.value("id", "")).second,
                   "throttle group given twice: " + arg);
        FUZZ_CHECK(object.at("limits").is_object() && !object.at("limits").empty(),
                   "a throttle group without limits: " + arg);
      }
    } else if (is_keyval_flag(flag) && !arg.empty() && arg[0] != '{') {
      const auto options = keyval(arg);
      for (std::size_t a = 0; a < options.size(); ++a)
        for (std::size_t b = a + 1; b < options.size(); ++b)
          FUZZ_CHECK(options[a].first != options[b].first,
                     "key given twice in " + flag + " " + arg);
      if (flag == "-device") devices.push_back(options);
      if (flag == "-chardev") chardevs.push_back(options);
      if (flag == "-drive") drives.push_back(options);
    } else if (flag == "-kernel" || flag == "-initrd" || flag == "-append") {
      FUZZ_CHECK(single.emplace(flag, arg).second, flag + " given twice");
    }
  }

  FUZZ_CHECK(blockdevs.size() == config.disks().size(), "one -blockdev per disk");
  for (std::size_t i = 0; i < config.disks().size(); ++i) {
    const auto& disk = config.disks()[i];
    // A limited disk is a throttle filter node of its own group over its format node.
    const bool throttled = blockdevs[i].at("driver") == "throttle";
    FUZZ_CHECK(throttled == disk.limits.any(), "a throttle node without limits (or the reverse)");
    FUZZ_CHECK(blockdevs[i].at("node-name") == "disk" + std::to_string(i), "disk node renamed");
    if (throttled) {
      const auto group = "throttle" + std::to_string(i);
      FUZZ_CHECK(blockdevs[i].at("throttle-group") == group, "throttle node in another group");
      FUZZ_CHECK(throttle_groups.count(group) == 1, "no -object for " + group);
    }
    const auto& format_node = throttled ? blockdevs[i].at("file") : blockdevs[i];
    const auto& file = format_node.at("file");
    FUZZ_CHECK(file.at("filename").get<std::string>() == disk.path.string(), "disk path changed");
    FUZZ_CHECK(file.at("driver").get<std::string>() ==
                   (paths.disk_is_block_device[i] ? "host_device" : "file"),
               "block device disk without host_device (or a file with it)");
    if (!disk.device_id) continue;
    bool found = false;
    for (const auto& device : devices) {
      if (value(device, "drive") != "disk" + std::to_string(i)) continue;
      found = true;
      FUZZ_CHECK(value(device, "serial") == *disk.device_id,
                 "disk serial changed: " + *disk.device_id);
    }
    FUZZ_CHECK(found, "no device for a disk");
  }
  int virtio_consoles = 0;  // hvc0, whatever else the VM has
  for (const auto& device : devices) virtio_consoles += value(device, "chardev") == "hvc" ? 1 : 0;
  FUZZ_CHECK(virtio_consoles == 1, "not exactly one virtio console");
  for (std::size_t i = 0; i < config.shares().size(); ++i) {
    const auto id = "fs" + std::to_string(i);
    bool device = false, chardev = false;
    for (const auto& d : devices) {
      if (value(d, "chardev") != id) continue;
      device = true;
      FUZZ_CHECK(value(d, "tag") == config.shares()[i].tag,
                 "share tag changed: " + config.shares()[i].tag);
    }
    for (const auto& c : chardevs) {
      if (value(c, "id") != id) continue;
      chardev = true;
      FUZZ_CHECK(value(c, "path") == paths.virtiofs_sockets[i].string(), "virtiofs socket changed");
    }
    FUZZ_CHECK(device && chardev, "share without its device or socket");
  }
  if (const auto* linux_boot = std::get_if<vmm::LinuxBoot>(&config.boot())) {
    FUZZ_CHECK(single["-kernel"] == linux_boot->kernel.string(), "kernel path changed");
    if (linux_boot->initrd)
      FUZZ_CHECK(single["-initrd"] == linux_boot->initrd->string(), "initrd changed");
    FUZZ_CHECK(single["-append"].rfind(linux_boot->full_command_line(), 0) == 0,
               "command line changed");
  } else {
    const auto& efi = std::get<vmm::EfiBoot>(config.boot());
    bool found = false;
    for (const auto& drive : drives) {
      if (value(drive, "unit") != "1") continue;
      found = true;
      FUZZ_CHECK(value(drive, "file") == efi.variable_store.string(), "variable store changed");
    }
    FUZZ_CHECK(found, "no variable store drive");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto document = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) return 0;
  const auto config = vmm::detail::config_from_json(document, vmm::detail::HostChecks::off);
  if (!config) return 0;
  const auto host = full_host();
  const auto paths = paths_for(*config);
  const auto command = vmm::qemu::build_qemu_command_line(*config, host, paths);
  if (!command) {
    const auto code = command.error().code();
    FUZZ_CHECK(code == vmm::Errc::unsupported || code == vmm::Errc::invalid_config,
               command.error().to_string());
    return 0;
  }
  check_argv(*config, host, paths, command->argv);
  return 0;
}
