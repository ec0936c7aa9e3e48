#include "qemu/command_line.hpp"

#include <array>

#include "qemu/command_line/sections.hpp"
#include "vmm/format.hpp"

// build_qemu_command_line() in argv order; each section lives in command_line/<section>.cpp.
namespace vmm::qemu {
namespace {

using sections::unsupported;

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

}  // namespace

std::string_view to_string(MachineType type) noexcept {
  switch (type) {
    case MachineType::microvm:
      return "microvm";
    case MachineType::q35:
      return "q35";
    case MachineType::virt:
      return "virt";
  }
  return "unknown";
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

Result<QemuCommandLine> build_qemu_command_line(const VmConfig& config, const QemuHostFacts& host,
                                                const QemuRuntimePaths& paths) {
  // Features with no QEMU counterpart, or none on this host, first: they fail whatever else.
  if (auto supported = sections::check_host_support(config, host); !supported) {
    return std::move(supported).error();
  }
  const MachineType machine = choose_machine(config, host.arch);
  sections::ArgvBuilder argv(host.binary.string());
  sections::add_machine(argv, config, host, paths, machine);
  if (auto boot = sections::add_boot(argv, config, host, machine); !boot) {
    return std::move(boot).error();
  }
  sections::add_control_and_consoles(argv, paths, machine);
  sections::add_console_ports(argv, config, paths);
  if (auto disks = sections::add_disks(argv, config, paths, machine); !disks) {
    return std::move(disks).error();
  }
  if (auto networks = sections::add_networks(argv, config, paths, machine); !networks) {
    return std::move(networks).error();
  }
  if (auto shares = sections::add_shares(argv, config, host, paths, machine); !shares) {
    return std::move(shares).error();
  }
  sections::add_devices(argv, config, paths, machine);
  return QemuCommandLine{argv.take(), machine, preferred_console(config)};
}

}  // namespace vmm::qemu
