#include <algorithm>

#include "config/validation.hpp"
#include "runtime/random_bytes.hpp"
#include "vmm/config.hpp"

namespace vmm {

VmConfigBuilder VmConfig::builder() { return VmConfigBuilder(); }

std::vector<MacAddress> VmConfig::network_macs() const {
  std::vector<MacAddress> macs;
  macs.reserve(networks_.size());
  for (const auto& network : networks_) macs.push_back(network.mac);
  return macs;
}

VmConfigBuilder& VmConfigBuilder::cpus(std::uint32_t count) {
  cpus_ = count;
  return *this;
}

VmConfigBuilder& VmConfigBuilder::memory(Size size) {
  memory_ = size;
  return *this;
}

VmConfigBuilder& VmConfigBuilder::linux_boot(LinuxBoot boot) {
  boot_ = std::move(boot);
  return *this;
}

VmConfigBuilder& VmConfigBuilder::linux_boot(std::filesystem::path kernel,
                                             std::optional<std::filesystem::path> initrd,
                                             std::string command_line) {
  return linux_boot(LinuxBoot{std::move(kernel), std::move(initrd), std::move(command_line), {}});
}

VmConfigBuilder& VmConfigBuilder::kernel_command_line_fragment(std::string fragment) {
  extra_fragments_.push_back(std::move(fragment));
  return *this;
}

VmConfigBuilder& VmConfigBuilder::efi_boot(EfiBoot boot) {
  boot_ = std::move(boot);
  return *this;
}

VmConfigBuilder& VmConfigBuilder::network(NetworkAttachment attachment,
                                          std::optional<MacAddress> mac) {
  networks_.push_back(NetworkSpec{std::move(attachment), mac});
  return *this;
}

VmConfigBuilder& VmConfigBuilder::nat_network(std::optional<MacAddress> mac) {
  return network(NatNetwork{}, mac);
}

VmConfigBuilder& VmConfigBuilder::macs(std::vector<MacAddress> macs) {
  macs_ = std::move(macs);
  return *this;
}

VmConfigBuilder& VmConfigBuilder::share(VirtiofsShare share) {
  shares_.push_back(std::move(share));
  return *this;
}

VmConfigBuilder& VmConfigBuilder::share(std::string tag, std::filesystem::path directory,
                                        bool read_only) {
  return share(VirtiofsShare{std::move(tag), SharedDirectory{std::move(directory), read_only}});
}

VmConfigBuilder& VmConfigBuilder::disk(DiskImage disk) {
  disks_.push_back(std::move(disk));
  return *this;
}

VmConfigBuilder& VmConfigBuilder::disk(std::filesystem::path path, bool read_only) {
  DiskImage image;
  image.path = std::move(path);
  image.read_only = read_only;
  return disk(std::move(image));
}

BlockDeviceId VmConfigBuilder::add_disk(DiskImage image) {
  disk(std::move(image));
  return BlockDeviceId{static_cast<std::uint32_t>(disks_.size() - 1)};
}

VmConfigBuilder& VmConfigBuilder::vsock() {
  ++vsock_count_;
  return *this;
}

VmConfigBuilder& VmConfigBuilder::serial(SerialConsole console) {
  serial_ = std::move(console);
  return *this;
}

VmConfigBuilder& VmConfigBuilder::console_port(std::string name) {
  console_ports_.push_back(ConsolePort{std::move(name)});
  return *this;
}

VmConfigBuilder& VmConfigBuilder::entropy(bool enabled) {
  entropy_ = enabled;
  return *this;
}

VmConfigBuilder& VmConfigBuilder::balloon() {
  ++balloon_count_;
  return *this;
}

VmConfigBuilder& VmConfigBuilder::rosetta(std::string tag) {
  rosetta_tag_ = std::move(tag);
  return *this;
}

VmConfigBuilder& VmConfigBuilder::nested_virtualization(bool enabled) {
  nested_virtualization_ = enabled;
  return *this;
}

VmConfigBuilder& VmConfigBuilder::machine_identifier(std::vector<std::uint8_t> data) {
  machine_identifier_ = std::move(data);
  return *this;
}

Result<VmConfig> VmConfigBuilder::build() const { return build_impl(true); }

Result<VmConfig> VmConfigBuilder::build_impl(bool host_checks) const {
  VmConfigBuilder resolved = *this;
  resolved.make_paths_absolute();
  return resolved.build_resolved(host_checks);
}

Result<VmConfig> VmConfigBuilder::build_resolved(bool host_checks) const {
  using namespace detail;
  const auto host = host_checks ? HostChecks::on : HostChecks::off;
  if (auto r = check_cpus(cpus_); !r) return std::move(r).error();
  if (auto r = check_memory(memory_); !r) return std::move(r).error();
  if (auto r = check_boot(boot_, extra_fragments_, host); !r) return std::move(r).error();
  if (auto r = check_networks(networks_, macs_, host); !r) return std::move(r).error();
  if (auto r = check_port_forwards(networks_); !r) return std::move(r).error();
  if (auto r = check_shares(shares_, rosetta_tag_, host); !r) return std::move(r).error();
  if (auto r = check_disks(disks_, host); !r) return std::move(r).error();
  if (auto r = check_serial(serial_, host); !r) return std::move(r).error();
  if (auto r = check_single_devices(vsock_count_, balloon_count_); !r) return std::move(r).error();
  if (auto r = check_console_ports(console_ports_); !r) return std::move(r).error();
  if (auto r = check_machine_identifier(machine_identifier_); !r) return std::move(r).error();

  VmConfig config;
  config.cpus_ = cpus_;
  config.memory_ = memory_;
  config.boot_ = *boot_;
  if (auto* linux_boot = std::get_if<LinuxBoot>(&config.boot_))
    linux_boot->extra_command_line.insert(linux_boot->extra_command_line.end(),
                                          extra_fragments_.begin(), extra_fragments_.end());

  // Given MACs first, so that a generated one can avoid every given one.
  std::vector<MacAddress> taken;
  for (std::size_t i = 0; i < networks_.size(); ++i) {
    const auto given = macs_ ? std::optional((*macs_)[i]) : networks_[i].mac;
    if (given) taken.push_back(*given);
  }
  for (std::size_t i = 0; i < networks_.size(); ++i) {
    auto mac = macs_ ? std::optional((*macs_)[i]) : networks_[i].mac;
    while (!mac) {
      const auto candidate = MacAddress::random_local();
      if (std::find(taken.begin(), taken.end(), candidate) == taken.end()) mac = candidate;
    }
    taken.push_back(*mac);
    config.networks_.push_back(NetworkDevice{networks_[i].attachment, *mac});
  }

  config.shares_ = shares_;
  config.disks_ = disks_;
  if (vsock_count_ > 0) config.vsock_ = VsockDevice{};
  config.serial_ = serial_;
  config.console_ports_ = console_ports_;
  config.entropy_ = entropy_;
  if (balloon_count_ > 0) config.balloon_ = MemoryBalloon{};
  config.rosetta_tag_ = rosetta_tag_;
  config.nested_virtualization_ = nested_virtualization_;
  if (machine_identifier_) {
    config.machine_identifier_ = *machine_identifier_;
  } else {
    // A random (version 4) UUID: the shape every backend can present to the guest.
    config.machine_identifier_.resize(16);
    detail::fill_random(config.machine_identifier_);
    config.machine_identifier_[6] = static_cast<std::uint8_t>((config.machine_identifier_[6] & 0x0Fu) | 0x40u);
    config.machine_identifier_[8] = static_cast<std::uint8_t>((config.machine_identifier_[8] & 0x3Fu) | 0x80u);
    config.machine_identifier_generated_ = true;
  }
  return config;
}

}  // namespace vmm
