// vmm internal (QEMU backend): VmConfig -> QEMU argv, as a pure function.
//
// Every decision about how a vmm feature maps onto QEMU lives here and is unit-tested without
// QEMU. Features QEMU (or this host) cannot provide are `unsupported` errors naming the feature,
// never dropped silently. The engine adds only the run-specific flags (-S, -incoming defer).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qemu/host.hpp"
#include "vmm/config.hpp"
#include "vmm/error.hpp"
#include "vmm/virtual_machine.hpp"

namespace vmm::qemu {

// x86_64: microvm or q35 (see choose_machine); aarch64: virt, which has PCIe, so every device
// takes its PCI form there as on q35.
enum class MachineType { microvm, q35, virt };
std::string_view to_string(MachineType type) noexcept;

// What the engine prepares before each QEMU run: descriptor numbers as the child sees them
// (the engine maps its own descriptors onto these) and paths inside the working directory.
struct QemuRuntimePaths {
  int qmp_fd = 3;             // connected stream socket: QMP monitor
  int console_fd = 4;         // connected stream socket: the guest's ttyS0
  int virtio_console_fd = 5;  // connected stream socket: the guest's hvc0 (virtconsole)
  // Per disk, in config order: whether its path is a block device (stat'ed when the engine is
  // created). Missing entries count as regular files.
  std::vector<bool> disk_is_block_device;
  // Per network, in config order: the child fd of a file-handle network (else -1), and the
  // local socket path QEMU binds for a unix-datagram network (else empty).
  std::vector<int> network_fds;
  std::vector<std::filesystem::path> network_local_sockets;
  // Per share, in config order: the vhost-user socket its virtiofsd listens on.
  std::vector<std::filesystem::path> virtiofs_sockets;
  // Per console port, in config order: the child fd of its connected stream socket.
  std::vector<int> console_port_fds;
  std::uint32_t vsock_cid = 3;
  // Guest RAM in a file instead of anonymous memory: the VM's own file in the working directory
  // (CreateOptions::file_backed_memory, shared: the guest's writes reach the file, which
  // save_template copies), or a template's RAM file mapped privately by a clone. Empty: none.
  std::filesystem::path memory_file;
  bool memory_file_shared = true;
};

// The guest's two consoles: the 16550 UART (ttyS0) and the virtio console (hvc0). QEMU always
// gets both, so that `console=ttyS0` and `console=hvc0` (VZ's only console) both work.
enum class ConsoleDevice { serial, virtio };

struct QemuCommandLine {
  std::vector<std::string> argv;  // argv[0] is the binary
  MachineType machine = MachineType::q35;
  // Where host input for the guest goes (SerialToFd): the console the guest reads.
  ConsoleDevice input_console = ConsoleDevice::serial;
};

Result<QemuCommandLine> build_qemu_command_line(const VmConfig& config, const QemuHostFacts& host,
                                                const QemuRuntimePaths& paths);

// Whether QEMU can save (migrate) a VM built from `config`: virtiofs shares (vhost-user-fs) and
// NVMe disks register migration blockers in QEMU 7.2. `unsupported` names the first blocker.
Result<void> check_qemu_save_support(const VmConfig& config);

// microvm for direct Linux boot when every device has a virtio-mmio form; q35 otherwise (EFI,
// NVMe and USB disks need PCI). Measured on QEMU 7.2 (TCG) before choosing: microvm with
// acpi=on boots as fast as q35 or faster, delivers system_powerdown to the guest through the
// ACPI generic event device (guest off ~0.06 s later), and saves/restores; without
// tsc_early_khz on the kernel command line its guest hangs at random calibrating the TSC.
// q35 is used (and tested) for the PCI-only devices. On aarch64 it is always virt.
MachineType choose_machine(const VmConfig& config, HostArch arch);

// The SMBIOS UUID text for a machine identifier. 16 bytes are the UUID itself. Any other length
// is hashed (two FNV-1a 64-bit passes with different offsets) into 16 bytes marked as a
// version-8 ("vendor-specific") RFC 9562 UUID: stable for the same bytes, never random.
std::string machine_uuid(const std::vector<std::uint8_t>& identifier);
// The 16 bytes behind machine_uuid(), for backends that replace a generated identifier.
std::vector<std::uint8_t> machine_uuid_bytes(const std::vector<std::uint8_t>& identifier);

// The console the guest's /dev/console is: the kernel takes the last `console=` argument, so
// `hvc<N>` there means the virtio console and anything else (or none, or EFI boot) the serial
// port. Output is read from both; input can go to one only (a console nobody reads would fill
// up and stall the other's output). With hvc there, the command line gets
// `earlycon=uart8250,io,0x3f8,115200` (`earlycon=pl011,0x9000000` on aarch64's virt; unless it
// names an early console itself), so that the
// boot log before virtio_console loads still reaches on_console_line over the UART.
ConsoleDevice preferred_console(const VmConfig& config);

// Every NAT network is its own slirp instance with this subnet: vmm sets the DHCP start, so
// the guest's address (guest_addresses) is vmm's decision, not slirp's default.
inline constexpr std::string_view nat_subnet = "10.0.2.0/24";
inline constexpr std::string_view nat_guest_address = "10.0.2.15";
// The guest's address on each NAT network, in network order (networks.cpp).
std::vector<GuestAddress> qemu_guest_addresses(const VmConfig& config);

// QemuOpts/keyval values double commas; anything else is taken literally.
std::string escape_option_value(std::string_view value);

}  // namespace vmm::qemu
