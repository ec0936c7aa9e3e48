#include "qemu/command_line.hpp"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <type_traits>
#include <variant>

#include "vmm/format.hpp"

namespace vmm::qemu {
namespace {

using nlohmann::json;

Unexpected unsupported(std::string what) {
  return make_error(Errc::unsupported, std::move(what));
}

// The device model name for a virtio device on this machine: PCI on q35, MMIO on microvm.
std::string virtio(std::string_view base, MachineType machine) {
  return fmt::format("{}-{}", base, machine == MachineType::q35 ? "pci" : "device");
}

std::string hex(const std::uint8_t* bytes, std::size_t count) {
  static constexpr std::array<char, 16> digits = {'0', '1', '2', '3', '4', '5', '6', '7',
                                                  '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 0x0f];
  }
  return out;
}

std::uint64_t fnv1a(const std::vector<std::uint8_t>& data, std::uint64_t basis) {
  std::uint64_t hash = basis;
  for (const auto byte : data) {
    hash ^= byte;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// How caching and sync modes map onto QEMU's two cache knobs:
//  - cache.direct: O_DIRECT, bypassing the host page cache. `uncached` asks for exactly that;
//    `cached` and `automatic` use the page cache (QEMU's own default, writeback).
//  - cache.no-flush: ignore the guest's flush requests. Only `sync none` wants that. Both
//    `full` and `fsync` honour flushes with fdatasync(), which on Linux already reaches stable
//    storage (there is no weaker "fsync" vs "F_FULLFSYNC" split as on macOS).
json cache_options(const DiskImage& disk) {
  return json{{"direct", disk.caching == CachingMode::uncached},
              {"no-flush", disk.sync == SyncMode::none}};
}

// A block device (/dev/sdX, a loop device, an LVM volume) takes QEMU's host_device protocol
// driver, a regular file the file driver: QEMU refuses a block device under `file`. Both take the
// same options (read-only opens O_RDONLY; cache.direct is O_DIRECT, which block devices support),
// so the caching and sync modes mean the same on either.
Result<json> blockdev(const DiskImage& disk, std::size_t index, bool block_device) {
  std::string driver;
  switch (disk.format) {
    case DiskFormat::raw:
      driver = "raw";
      break;
    case DiskFormat::qcow2:
      driver = "qcow2";
      break;
    case DiskFormat::asif:
      return unsupported(fmt::format("disks[{}]: the asif disk format is Apple's and the QEMU "
                                     "backend cannot read it (convert it to raw or qcow2)",
                                     index));
  }
  return json{{"driver", driver},
              {"node-name", fmt::format("disk{}", index)},
              {"read-only", disk.read_only},
              {"cache", cache_options(disk)},
              {"file",
               {{"driver", block_device ? "host_device" : "file"},
                {"filename", disk.path.string()},
                {"read-only", disk.read_only},
                {"aio", "threads"},
                {"cache", cache_options(disk)}}}};
}

// Whether the kernel command line already chooses an early console of its own.
bool names_early_console(std::string_view line) {
  std::size_t start = 0;
  while (start < line.size()) {
    const std::size_t end = std::min(line.find_first_of(" \t\n", start), line.size());
    const std::string_view word = line.substr(start, end - start);
    if (word.substr(0, 8) == "earlycon" || word.substr(0, 12) == "earlyprintk=") return true;
    start = end + 1;
  }
  return false;
}

bool needs_pci(const VmConfig& config) {
  if (!std::holds_alternative<LinuxBoot>(config.boot())) return true;
  for (const auto& disk : config.disks()) {
    if (disk.bus != BlockBus::virtio) return true;
  }
  return false;
}

class ArgvBuilder {
 public:
  explicit ArgvBuilder(std::string binary) { argv_.push_back(std::move(binary)); }
  void add(std::string flag) { argv_.push_back(std::move(flag)); }
  void add(std::string flag, std::string value) {
    argv_.push_back(std::move(flag));
    argv_.push_back(std::move(value));
  }
  std::vector<std::string> take() { return std::move(argv_); }

 private:
  std::vector<std::string> argv_;
};

}  // namespace

std::string_view to_string(MachineType type) noexcept {
  return type == MachineType::microvm ? "microvm" : "q35";
}

std::string escape_option_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    out += c;
    if (c == ',') out += ',';
  }
  return out;
}

std::vector<std::uint8_t> machine_uuid_bytes(const std::vector<std::uint8_t>& identifier) {
  if (identifier.size() == 16) return identifier;
  std::vector<std::uint8_t> bytes(16);
  const std::uint64_t high = fnv1a(identifier, 0xcbf29ce484222325ULL);
  const std::uint64_t low = fnv1a(identifier, 0x84222325cbf29ce4ULL);
  for (int i = 0; i < 8; ++i) {
    bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(high >> (56 - 8 * i));
    bytes[static_cast<std::size_t>(8 + i)] = static_cast<std::uint8_t>(low >> (56 - 8 * i));
  }
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0f) | 0x80);  // version 8
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3f) | 0x80);  // RFC 9562 variant
  return bytes;
}

std::string machine_uuid(const std::vector<std::uint8_t>& identifier) {
  const auto b = machine_uuid_bytes(identifier);
  return fmt::format("{}-{}-{}-{}-{}", hex(&b[0], 4), hex(&b[4], 2), hex(&b[6], 2),
                     hex(&b[8], 2), hex(&b[10], 6));
}

Result<void> check_qemu_save_support(const VmConfig& config) {
  if (!config.shares().empty()) {
    return unsupported(fmt::format("save: shares[0] ({}) is a virtiofs directory share, and QEMU "
                                   "cannot save a VM with one (vhost-user-fs is not migratable)",
                                   config.shares().front().tag));
  }
  for (std::size_t i = 0; i < config.disks().size(); ++i) {
    if (config.disks()[i].bus == BlockBus::nvme) {
      return unsupported(fmt::format("save: disks[{}] is an NVMe disk, and QEMU cannot save a VM "
                                     "with one (its nvme device is not migratable; use the virtio "
                                     "or usb bus)",
                                     i));
    }
  }
  return {};
}

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

MachineType choose_machine(const VmConfig& config) {
  return needs_pci(config) ? MachineType::q35 : MachineType::microvm;
}

Result<QemuCommandLine> build_qemu_command_line(const VmConfig& config, const QemuHostFacts& host,
                                                const QemuRuntimePaths& paths) {
  // Features with no QEMU counterpart, or none on this host, first: they fail whatever else.
  if (config.rosetta_tag()) {
    return unsupported("rosetta: Rosetta translation exists only in Apple's Virtualization "
                       "framework, not in the QEMU backend");
  }
  if (config.nested_virtualization()) {
    if (host.acceleration != Acceleration::kvm) {
      return unsupported("nested_virtualization: needs KVM; QEMU's TCG emulation cannot run "
                         "a hypervisor inside the guest");
    }
    if (!host.kvm_nested) {
      return unsupported("nested_virtualization: the host's kvm_intel/kvm_amd module does not "
                         "have nested=1");
    }
  }
  if (config.vsock() && !host.vhost_vsock) {
    return unsupported("vsock: the QEMU backend needs /dev/vhost-vsock (module vhost_vsock), "
                       "which this host does not have");
  }
  // Memory is a whole number of MiB: VmConfigBuilder::build() guarantees it.
  const MachineType machine = choose_machine(config);
  const bool shares = !config.shares().empty();
  ArgvBuilder argv(host.binary.string());

  // Machine and acceleration. microvm gets ACPI so that system_powerdown reaches the guest
  // (power button via the ACPI generic event device); shared guest memory is needed by
  // vhost-user-fs (virtiofsd maps the guest RAM).
  std::string machine_arg(to_string(machine));
  if (machine == MachineType::microvm) machine_arg += ",acpi=on";
  if (shares) machine_arg += ",memory-backend=mem";
  argv.add("-machine", machine_arg);
  if (host.acceleration == Acceleration::kvm) {
    argv.add("-accel", "kvm");
    // -cpu host passes vmx/svm through when the host's KVM module allows nesting.
    argv.add("-cpu", "host");
  } else {
    argv.add("-accel", "tcg");
  }
  // No default devices, no config files from /etc, no window, and a guest reboot ends QEMU
  // (panic=-1 and resets become a stop the engine reports as the guest stopping).
  argv.add("-nodefaults");
  argv.add("-no-user-config");
  argv.add("-display", "none");
  argv.add("-no-reboot");
  argv.add("-smp", std::to_string(config.cpus()));
  argv.add("-m", fmt::format("{}M", config.memory().as_mib()));
  if (shares) {
    argv.add("-object", fmt::format("memory-backend-memfd,id=mem,size={}M,share=on",
                                    config.memory().as_mib()));
  }
  argv.add("-uuid", machine_uuid(config.machine_identifier()));
  if (machine == MachineType::microvm) {
    // Modern (virtio 1.x) MMIO transport: vhost-user-fs requires it, the rest are fine with it.
    argv.add("-global", "virtio-mmio.force-legacy=false");
  }

  // Boot.
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
      append += "earlycon=uart8250,io,0x3f8,115200";
    }
    if (!append.empty()) argv.add("-append", append);
  } else {
    const auto& efi = std::get<EfiBoot>(config.boot());
    if (!host.ovmf_code) {
      return unsupported("boot: EFI boot with QEMU needs the UEFI firmware "
                         "/usr/share/OVMF/OVMF_CODE.fd (install the Debian package ovmf)");
    }
    argv.add("-drive", fmt::format("if=pflash,format=raw,unit=0,readonly=on,file={}",
                                   escape_option_value(host.ovmf_code->string())));
    argv.add("-drive", fmt::format("if=pflash,format=raw,unit=1,file={}",
                                   escape_option_value(efi.variable_store.string())));
  }

  // Control and console: both are sockets the engine already holds the other end of.
  argv.add("-chardev", fmt::format("socket,id=qmp,fd={}", paths.qmp_fd));
  argv.add("-mon", "chardev=qmp,mode=control");
  argv.add("-chardev", fmt::format("socket,id=console,fd={}", paths.console_fd));
  argv.add("-serial", "chardev:console");
  // The virtio console (hvc0), on the virtio bus of the machine like every other device.
  argv.add("-chardev", fmt::format("socket,id=hvc,fd={}", paths.virtio_console_fd));
  argv.add("-device", fmt::format("{},id=virtio-serial0", virtio("virtio-serial", machine)));
  argv.add("-device", "virtconsole,bus=virtio-serial0.0,chardev=hvc,id=hvc0");

  // Disks.
  bool have_usb = false;
  for (std::size_t i = 0; i < config.disks().size(); ++i) {
    const auto& disk = config.disks()[i];
    const bool block_device =
        i < paths.disk_is_block_device.size() && paths.disk_is_block_device[i];
    auto node = blockdev(disk, i, block_device);
    if (!node) return std::move(node).error();
    argv.add("-blockdev", node->dump());
    const std::string serial =
        disk.device_id ? fmt::format(",serial={}", escape_option_value(*disk.device_id)) : "";
    // A host I/O error (e.g. a full disk) goes to the guest as an I/O error, as a physical disk
    // and Virtualization.framework report it. QEMU's default (werror=enospc) would instead stop
    // the whole VM silently while vmm still reported it running. QEMU's nvme has no such
    // property: it always reports errors to the guest.
    const std::string report_errors = ",werror=report,rerror=report";
    switch (disk.bus) {
      case BlockBus::virtio:
        argv.add("-device", fmt::format("{},drive=disk{}{}{}", virtio("virtio-blk", machine), i,
                                        serial, report_errors));
        break;
      case BlockBus::nvme:
        // NVMe controllers require a serial number: default to a stable one per slot.
        argv.add("-device",
                 fmt::format("nvme,drive=disk{},serial={}", i,
                             disk.device_id ? escape_option_value(*disk.device_id)
                                            : fmt::format("vmm-disk{}", i)));
        break;
      case BlockBus::usb:
        if (!have_usb) {
          argv.add("-device", "qemu-xhci,id=usb");
          have_usb = true;
        }
        argv.add("-device",
                 fmt::format("usb-storage,bus=usb.0,drive=disk{}{}{}", i, serial, report_errors));
        break;
    }
  }

  // Networks.
  for (std::size_t i = 0; i < config.networks().size(); ++i) {
    const auto& network = config.networks()[i];
    const std::string id = fmt::format("net{}", i);
    std::optional<std::uint32_t> mtu;
    if (std::holds_alternative<NatNetwork>(network.attachment)) {
      // QEMU's user-mode (slirp) network: DHCP gives 10.0.2.15, the host is 10.0.2.2.
      argv.add("-netdev", fmt::format("user,id={}", id));
    } else if (const auto* fd = std::get_if<FileHandleNetwork>(&network.attachment)) {
      if (i >= paths.network_fds.size() || paths.network_fds[i] < 0) {
        return make_error(Errc::invalid_config,
                          fmt::format("networks[{}]: no descriptor was prepared for the file "
                                      "handle network",
                                      i));
      }
      argv.add("-netdev", json{{"type", "dgram"},
                               {"id", id},
                               {"local", {{"type", "fd"}, {"str", std::to_string(paths.network_fds[i])}}}}
                              .dump());
      mtu = fd->mtu;
    } else if (const auto* unix_dgram = std::get_if<UnixDatagramNetwork>(&network.attachment)) {
      if (i >= paths.network_local_sockets.size() || paths.network_local_sockets[i].empty()) {
        return make_error(Errc::invalid_config,
                          fmt::format("networks[{}]: no local socket path was prepared for the "
                                      "unix datagram network",
                                      i));
      }
      // QEMU binds the local path (the peer replies to it) and sends to the peer's path.
      argv.add("-netdev",
               json{{"type", "dgram"},
                    {"id", id},
                    {"local", {{"type", "unix"}, {"path", paths.network_local_sockets[i].string()}}},
                    {"remote", {{"type", "unix"}, {"path", unix_dgram->socket.string()}}}}
                   .dump());
      mtu = unix_dgram->mtu;
    } else {
      return unsupported(fmt::format("networks[{}]: {} networking is not available in the QEMU "
                                     "backend (use nat, file_handle or unix_datagram)",
                                     i, network_kind(network.attachment)));
    }
    std::string device = fmt::format("{},netdev={},mac={}", virtio("virtio-net", machine), id,
                                     network.mac.to_string());
    if (mtu) device += fmt::format(",host_mtu={}", *mtu);
    argv.add("-device", device);
  }

  // Directory shares: one virtiofsd per share, reached over a vhost-user socket.
  for (std::size_t i = 0; i < config.shares().size(); ++i) {
    const auto& share = config.shares()[i];
    if (!host.virtiofsd) {
      return unsupported(fmt::format("shares[{}] ({}): virtiofs needs virtiofsd "
                                     "(/usr/lib/qemu/virtiofsd from the Debian package "
                                     "qemu-system-common)",
                                     i, share.tag));
    }
    const auto* single = std::get_if<SharedDirectory>(&share.source);
    if (single == nullptr) {
      return unsupported(fmt::format("shares[{}] ({}): shares of several directories are not "
                                     "available in the QEMU backend (virtiofsd serves one tree)",
                                     i, share.tag));
    }
    if (single->read_only) {
      return unsupported(fmt::format("shares[{}] ({}): read-only shares are not available in "
                                     "the QEMU backend (QEMU 7.2's virtiofsd has no read-only "
                                     "mode; mount it read-only in the guest instead)",
                                     i, share.tag));
    }
    if (i >= paths.virtiofs_sockets.size()) {
      return make_error(Errc::invalid_config,
                        fmt::format("shares[{}]: no virtiofsd socket was prepared", i));
    }
    argv.add("-chardev", fmt::format("socket,id=fs{},path={}", i,
                                     escape_option_value(paths.virtiofs_sockets[i].string())));
    argv.add("-device", fmt::format("{},chardev=fs{},tag={}", virtio("vhost-user-fs", machine), i,
                                    escape_option_value(share.tag)));
  }

  if (config.vsock()) {
    argv.add("-device", fmt::format("{},guest-cid={}", virtio("vhost-vsock", machine),
                                    paths.vsock_cid));
  }
  if (config.entropy()) {
    argv.add("-object", "rng-random,id=rng0,filename=/dev/urandom");
    argv.add("-device", fmt::format("{},rng=rng0", virtio("virtio-rng", machine)));
  }
  if (config.balloon()) argv.add("-device", virtio("virtio-balloon", machine));

  return QemuCommandLine{argv.take(), machine, preferred_console(config)};
}

}  // namespace vmm::qemu
