// vmm internal (QEMU backend): the sections of build_qemu_command_line(), one file each.
//
// command_line.cpp calls them in argv order: host checks, machine, boot, consoles, disks,
// networks, shares, devices. Each appends its flags to one ArgvBuilder and refuses, with an
// error naming the config field, what QEMU or this host cannot provide.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "qemu/command_line.hpp"

namespace vmm::qemu::sections {

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

Unexpected unsupported(std::string what);

// The device model name for a virtio device on this machine: PCI on q35, MMIO on microvm.
std::string virtio(std::string_view base, MachineType machine);

// Features with no QEMU counterpart, or none on this host (machine.cpp).
Result<void> check_host_support(const VmConfig& config, const QemuHostFacts& host);
// -machine, -accel, -cpu, memory, SMP, the SMBIOS UUID and the fixed flags (machine.cpp).
void add_machine(ArgvBuilder& argv, const VmConfig& config, const QemuHostFacts& host,
                 const QemuRuntimePaths& paths, MachineType machine);
// -kernel/-initrd/-append, or the EFI firmware and variable store (boot.cpp).
Result<void> add_boot(ArgvBuilder& argv, const VmConfig& config, const QemuHostFacts& host,
                      MachineType machine);
// QMP, the serial console and the virtio console, over descriptors the engine holds (devices.cpp).
void add_control_and_consoles(ArgvBuilder& argv, const QemuRuntimePaths& paths,
                              MachineType machine);
// A virtserialport per console port on the consoles' virtio-serial bus (console_ports.cpp).
void add_console_ports(ArgvBuilder& argv, const VmConfig& config, const QemuRuntimePaths& paths);
// -blockdev and its device per disk (disks.cpp).
Result<void> add_disks(ArgvBuilder& argv, const VmConfig& config, const QemuRuntimePaths& paths,
                       MachineType machine);
// -netdev and virtio-net per network (networks.cpp).
Result<void> add_networks(ArgvBuilder& argv, const VmConfig& config,
                          const QemuRuntimePaths& paths, MachineType machine);
// A vhost-user-fs device per virtiofs share (shares.cpp).
Result<void> add_shares(ArgvBuilder& argv, const VmConfig& config, const QemuHostFacts& host,
                        const QemuRuntimePaths& paths, MachineType machine);
// vsock, entropy and the memory balloon (devices.cpp).
void add_devices(ArgvBuilder& argv, const VmConfig& config, const QemuRuntimePaths& paths,
                 MachineType machine);

}  // namespace vmm::qemu::sections
