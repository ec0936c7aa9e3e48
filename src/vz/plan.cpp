// make_plan(): config + host facts -> Plan. Checks run device by device in config order and the
// first problem is returned, the most specific first (a feature's own macOS version before the
// backend's general macOS 13 floor), so the message tells the caller what to change.
#include "vz/plan.hpp"

#include <string>
#include <utility>
#include <variant>

#include "vz/block_device.hpp"
#include "vz/kernel_image.hpp"
#include "vz/requirements.hpp"

namespace vmm::vz {
namespace {

template <typename... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <typename... F>
Overloaded(F...) -> Overloaded<F...>;

using detail::quoted;  // src/runtime/posix.hpp

Result<BootPlan> plan_boot(const Boot& boot, const HostFacts& host) {
  if (const auto* linux_boot = std::get_if<LinuxBoot>(&boot)) {
    return BootPlan{LinuxBootPlan{linux_boot->kernel, linux_boot->initrd,
                                  linux_boot->full_command_line()}};
  }
  const auto& efi = std::get<EfiBoot>(boot);
  if (auto missing = require_macos(host, macos_for_efi, "EFI boot")) return *std::move(missing);
  return BootPlan{EfiBootPlan{efi.variable_store, efi.create_if_missing}};
}

Result<void> check_limits(const VmConfig& config, const HostFacts& host) {
  if (config.cpus() < host.min_cpus || config.cpus() > host.max_cpus) {
    return make_error(Errc::invalid_config,
                      "cpus: " + std::to_string(config.cpus()) + " is outside this host's " +
                          std::to_string(host.min_cpus) + " to " + std::to_string(host.max_cpus));
  }
  const Size memory = config.memory();
  if (memory.as_bytes() % Size::mib(1).as_bytes() != 0) {
    return make_error(Errc::invalid_config, "memory: " + std::to_string(memory.as_bytes()) +
                                                " bytes is not a multiple of 1 MiB");
  }
  if (memory < host.min_memory || memory > host.max_memory) {
    return make_error(Errc::invalid_config, "memory: " + memory.to_string() +
                                                " is outside this host's " +
                                                host.min_memory.to_string() + " to " +
                                                host.max_memory.to_string());
  }
  return {};
}

// A block device is attached as it is, by VZDiskBlockDeviceStorageDeviceAttachment (macOS 14):
// it has no format of its own, no caching mode, and knows only full or no synchronisation.
Result<void> check_block_device(const DiskImage& disk, const HostFacts& host,
                                const std::string& what) {
  if (auto missing = require_macos(host, macos_for_block_device, what + ": block devices")) {
    return *std::move(missing);
  }
  if (disk.format != DiskFormat::raw) {
    return make_error(Errc::invalid_config,
                      what + ": is a block device, which Virtualization.framework attaches as it "
                             "is; format " +
                          std::string(to_string(disk.format)) +
                          " applies to image files only (use raw)");
  }
  return {};
}

Result<void> check_image_format(const DiskImage& disk, const HostFacts& host,
                                const std::string& what) {
  if (disk.format == DiskFormat::qcow2) {
    return make_error(Errc::unsupported,
                      what + ": qcow2 images are not supported by Virtualization.framework, "
                             "which reads raw and ASIF images only (convert with "
                             "`qemu-img convert -O raw`)");
  }
  if (disk.format == DiskFormat::asif) {
    if (auto missing = require_macos(host, macos_for_asif, what + ": ASIF images")) {
      return *std::move(missing);
    }
  }
  return {};
}

Result<StoragePlan> plan_disk(const DiskImage& disk, const HostFacts& host,
                              const PlanOptions& options) {
  const std::string what = "disk " + quoted(disk.path);
  const bool block_device = options.is_block_device && options.is_block_device(disk.path);
  auto kind_ok = block_device ? check_block_device(disk, host, what)
                              : check_image_format(disk, host, what);
  if (!kind_ok) return kind_ok.error();
  if (disk.bus == BlockBus::nvme) {
    if (auto missing = require_macos(host, macos_for_nvme, what + ": NVMe disks")) {
      return *std::move(missing);
    }
  }
  if (disk.bus == BlockBus::usb) {
    if (auto missing = require_macos(host, macos_for_usb_storage, what + ": USB mass storage")) {
      return *std::move(missing);
    }
  }
  // Only VZVirtioBlockDeviceConfiguration has a blockDeviceIdentifier; NVMe and USB would
  // silently lose the serial the guest is expected to find the disk by.
  if (disk.device_id && disk.bus != BlockBus::virtio) {
    return make_error(Errc::unsupported,
                      what + ": device_id is only supported on virtio disks by "
                             "Virtualization.framework, not on " +
                          std::string(to_string(disk.bus)));
  }
  // VZ storage attachments have no rate control of any kind: a limit the VM would silently run
  // without is refused rather than dropped.
  if (disk.limits.any()) {
    return make_error(Errc::unsupported,
                      what + ": limits (disk rate limits) are not supported by "
                             "Virtualization.framework, which has no I/O throttling; use the "
                             "QEMU backend or remove the limits");
  }
  // VZDiskSynchronizationMode has no fsync-only mode: fsync becomes full for a block device.
  const SyncMode sync =
      block_device && disk.sync == SyncMode::fsync ? SyncMode::full : disk.sync;
  return StoragePlan{disk.path, disk.format, disk.read_only, block_device, disk.caching,
                     sync,      disk.bus,    disk.device_id};
}

Result<void> check_mtu(std::uint32_t mtu, const HostFacts& host, const std::string& what) {
  if (mtu == default_mtu) return {};
  if (auto missing = require_macos(host, macos_for_file_handle_mtu, what + ": an MTU other than 1500")) {
    return *std::move(missing);
  }
  return {};
}

// VZ's NAT has no forwarding of its own: vmm's relay (nat_forwarder.hpp) carries TCP streams
// only. A UDP forward is refused rather than dropped.
Result<void> check_nat_forwards(const NatNetwork& nat, std::size_t index) {
  for (std::size_t i = 0; i < nat.forwards.size(); ++i) {
    const auto& forward = nat.forwards[i];
    if (forward.protocol != Protocol::udp) continue;
    return make_error(Errc::unsupported,
                      "networks[" + std::to_string(index) + "].forwards[" + std::to_string(i) +
                          "]: UDP forwards (host port " + std::to_string(forward.host_port) +
                          ") are not supported on Virtualization.framework NAT, which forwards "
                          "nothing itself; vmm's relay to the guest carries TCP only");
  }
  return {};
}

Result<NetworkAttachmentPlan> plan_attachment(const NetworkAttachment& attachment,
                                              std::size_t index, const HostFacts& host,
                                              const PlanOptions& options) {
  const std::string what = "network " + std::to_string(index);
  return std::visit(
      Overloaded{
          [index](const NatNetwork& nat) -> Result<NetworkAttachmentPlan> {
            if (auto udp = check_nat_forwards(nat, index); !udp) return udp.error();
            return NetworkAttachmentPlan{NatAttachmentPlan{nat.forwards}};
          },
          [](const BridgedNetwork& bridged) -> Result<NetworkAttachmentPlan> {
            return NetworkAttachmentPlan{BridgedAttachmentPlan{bridged.interface}};
          },
          [&](const FileHandleNetwork& file_handle) -> Result<NetworkAttachmentPlan> {
            if (auto ok = check_mtu(file_handle.mtu, host, what); !ok) return ok.error();
            return NetworkAttachmentPlan{FileHandleAttachmentPlan{file_handle.fd, file_handle.mtu}};
          },
          [&](const UnixDatagramNetwork& unix_dgram) -> Result<NetworkAttachmentPlan> {
            if (auto ok = check_mtu(unix_dgram.mtu, host, what); !ok) return ok.error();
            const auto local = options.work_dir / ("net" + std::to_string(index) + ".sock");
            for (const auto* path : {&local, &unix_dgram.socket}) {
              if (path->native().size() > max_unix_socket_path) {
                return make_error(Errc::invalid_config,
                                  what + ": socket path " + quoted(*path) + " is longer than " +
                                      std::to_string(max_unix_socket_path) +
                                      " bytes, the limit of a unix socket address on macOS");
              }
            }
            return NetworkAttachmentPlan{UnixDatagramAttachmentPlan{
                local, unix_dgram.socket, unix_dgram.mtu, unix_datagram_send_buffer,
                unix_datagram_receive_buffer}};
          },
          [&](const TapNetwork&) -> Result<NetworkAttachmentPlan> {
            return make_error(Errc::unsupported,
                              what + ": tap networks are a Linux feature; Virtualization.framework "
                                     "has none (use a bridged or file_handle network)");
          },
          [&](const VmnetNetwork& vmnet) -> Result<NetworkAttachmentPlan> {
            if (auto missing = require_macos(host, macos_for_vmnet, what + ": vmnet networks")) {
              return *std::move(missing);
            }
            if (auto missing = require_sdk(host, macos_for_vmnet, what + ": vmnet networks need")) {
              return *std::move(missing);
            }
            VmnetAttachmentPlan plan;
            if (vmnet.subnet) {
              auto subnet = detail::parse_ipv4_subnet(*vmnet.subnet);
              if (!subnet) {
                return make_error(subnet.error().code(),
                                  what + ": " + subnet.error().message());
              }
              plan.subnet = *subnet;
            }
            return NetworkAttachmentPlan{plan};
          },
      },
      attachment);
}

Result<void> check_rosetta(const HostFacts& host) {
  if (host.arch != HostArch::arm64) {
    return make_error(Errc::unsupported,
                      "Rosetta directory share: needs an Apple silicon (arm64) Mac, this host is " +
                          std::string(to_string(host.arch)));
  }
  if (auto missing = require_macos(host, macos_for_rosetta, "Rosetta directory share")) {
    return *std::move(missing);
  }
  if (host.rosetta == RosettaAvailability::not_installed) {
    return make_error(Errc::unsupported,
                      "Rosetta directory share: Rosetta is not installed on this Mac (install it "
                      "with `softwareupdate --install-rosetta`)");
  }
  if (host.rosetta != RosettaAvailability::installed) {
    return make_error(Errc::unsupported,
                      "Rosetta directory share: Rosetta for Linux is not supported on this Mac");
  }
  return {};
}

Result<void> check_nested(const HostFacts& host) {
  if (auto missing = require_macos(host, macos_for_nested, "nested virtualization")) {
    return *std::move(missing);
  }
  // Before the hardware check: a build without the macOS 15 SDK cannot even ask the hardware.
  if (auto missing = require_sdk(host, macos_for_nested, "nested virtualization needs")) {
    return *std::move(missing);
  }
  if (!host.nested_virtualization_supported) {
    return make_error(Errc::unsupported,
                      "nested virtualization: this Mac's hardware does not support it (it needs "
                      "an Apple M3 or later)");
  }
  return {};
}

SerialPlan plan_serial(const SerialConsole& serial, bool console_lines) {
  using Tee = decltype(SerialPipePlan::tee);
  const auto tee = std::visit(
      Overloaded{
          [](std::monostate) { return Tee{}; },
          [](const SerialToFile& file) { return Tee{SerialFilePlan{file.path, file.append}}; },
          [](const SerialToFd& fd) { return Tee{SerialFdPlan{fd.fd}}; },
      },
      serial);
  // A console-line callback needs the bytes in this process: the port goes to a pipe, and the
  // file or fd the config asked for is fed from that pipe too.
  if (console_lines) return SerialPipePlan{tee};
  return std::visit(
      Overloaded{
          [](std::monostate) { return SerialPlan{}; },
          [](const SerialFilePlan& file) { return SerialPlan{file}; },
          [](const SerialFdPlan& fd) { return SerialPlan{fd}; },
      },
      tee);
}

}  // namespace

bool has_serial_port(const Plan& plan) {
  return !std::holds_alternative<std::monostate>(plan.serial);
}

Result<Plan> make_plan(const VmConfig& config, const HostFacts& host, const PlanOptions& options) {
  Plan plan;
  auto boot = plan_boot(config.boot(), host);
  if (!boot) return boot.error();
  plan.boot = std::move(*boot);

  if (auto limits = check_limits(config, host); !limits) return limits.error();
  plan.cpus = config.cpus();
  plan.memory_bytes = config.memory().as_bytes();

  for (const auto& disk : config.disks()) {
    auto storage = plan_disk(disk, host, options);
    if (!storage) return storage.error();
    plan.storage.push_back(std::move(*storage));
  }

  for (std::size_t i = 0; i < config.networks().size(); ++i) {
    const auto& network = config.networks()[i];
    auto attachment = plan_attachment(network.attachment, i, host, options);
    if (!attachment) return attachment.error();
    plan.networks.push_back(NetworkPlan{std::move(*attachment), network.mac});
  }

  plan.shares = config.shares();
  if (config.rosetta_tag()) {
    if (auto rosetta = check_rosetta(host); !rosetta) return rosetta.error();
    plan.rosetta_tag = config.rosetta_tag();
  }

  if (config.nested_virtualization()) {
    if (auto nested = check_nested(host); !nested) return nested.error();
  }
  plan.platform.nested_virtualization = config.nested_virtualization();
  plan.platform.generate_machine_identifier = config.machine_identifier_generated();
  if (!plan.platform.generate_machine_identifier) {
    plan.platform.machine_identifier = config.machine_identifier();
  }

  plan.vsock = config.vsock().has_value();
  plan.entropy = config.entropy();
  plan.balloon = config.balloon().has_value();
  plan.serial = plan_serial(config.serial(), options.console_lines);

  if (auto missing = require_macos(host, macos_for_backend, "the Virtualization.framework backend")) {
    return *std::move(missing);
  }
  for (const auto& port : config.console_ports()) plan.console_ports.push_back(port.name);
  plan.save_blocker = save_blocker(config, host);
  return plan;
}

// make_checked_plan(): the pure plan plus the one check that reads a file.
Result<Plan> make_checked_plan(const VmConfig& config, const HostFacts& host,
                               const PlanOptions& options) {
  PlanOptions examined = options;
  if (!examined.is_block_device) examined.is_block_device = is_block_device;
  auto plan = make_plan(config, host, examined);
  if (!plan) return plan;
  if (host.arch == HostArch::arm64) {
    if (const auto* linux_boot = std::get_if<LinuxBootPlan>(&plan->boot)) {
      if (auto kernel = check_arm64_kernel_image(linux_boot->kernel); !kernel) {
        return kernel.error();
      }
    }
  }
  return plan;
}

// What the plan knows blocks save/restore, decided before any state changes so that save()
// fails early with a reason naming the device. It is a lower bound: no blocker here does not
// promise that VZ can save (VzEngine::check_save_support then asks the framework itself).
std::optional<Error> save_blocker(const VmConfig& config, const HostFacts& host) {
  // saveMachineStateToURL: is declared only for arm64 and arrives in macOS 14.
  if (host.arch != HostArch::arm64 || host.macos < macos_for_save_restore) {
    return save_restore_unsupported(host);
  }
  // Only what is known to be refused is blocked here; everything else is left to
  // validateSaveRestoreSupportWithError:, the authority, which save()/restore() ask before any
  // state changes (docs/macos.md lists each rule and its source):
  // - directory sharing devices (virtiofs, Rosetta) are refused by the framework;
  // - console devices (consoleDevices) are refused ("Unsupported console device in
  //   configuration"): console ports make one, so they block save here; vmm's own console is
  //   a VZVirtioConsoleDeviceSerialPortConfiguration in serialPorts, which blocks nothing;
  // - entropy (and audio, which vmm has not): tart leaves them out of suspendable VMs, but no
  //   header or documentation says the framework refuses them, so the plan does not promise
  //   either way.
  if (!config.shares().empty()) {
    return Error(Errc::unsupported, "save/restore is not possible with directory shares "
                                    "(virtiofs tag \"" +
                                        config.shares().front().tag +
                                        "\"): Virtualization.framework cannot save them");
  }
  if (config.rosetta_tag()) {
    return Error(Errc::unsupported,
                 "save/restore is not possible with the Rosetta directory share (tag \"" +
                     *config.rosetta_tag() + "\"): Virtualization.framework cannot save it");
  }
  if (!config.console_ports().empty()) {
    return Error(Errc::unsupported,
                 "save/restore is not possible with console ports (console_ports[0] \"" +
                     config.console_ports().front().name +
                     "\"): Virtualization.framework cannot save a console device");
  }
  return std::nullopt;
}

}  // namespace vmm::vz
