// vmm vz: the plan, every decision the Virtualization.framework backend makes, as plain data.
//
// make_plan() is a pure function of the config, the host facts and a few create options. The
// Objective-C++ half (configuration_builder.mm) only turns each plan entry into the VZ object it
// names; nothing there decides. Each unsupported feature is an error here, naming the feature and
// the macOS version it needs, so nothing is dropped silently and nothing fails late inside VZ.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "runtime/posix.hpp"
#include "vmm/config.hpp"
#include "vmm/error.hpp"
#include "vz/host_facts.hpp"
#include "config/ipv4_subnet.hpp"

namespace vmm::vz {

// ---- boot -------------------------------------------------------------------------------------

struct LinuxBootPlan {  // VZLinuxBootLoader
  std::filesystem::path kernel;
  std::optional<std::filesystem::path> initrd;
  std::string command_line;  // LinuxBoot::full_command_line()
};

struct EfiBootPlan {  // VZEFIBootLoader + VZEFIVariableStore
  std::filesystem::path variable_store;
  bool create_if_missing = true;
};

using BootPlan = std::variant<LinuxBootPlan, EfiBootPlan>;

// ---- platform ---------------------------------------------------------------------------------

struct PlatformPlan {  // VZGenericPlatformConfiguration
  // True: a new VZGenericMachineIdentifier, whose data then replaces the config's generated one.
  bool generate_machine_identifier = false;
  // The VZ dataRepresentation to restore when not generating.
  std::vector<std::uint8_t> machine_identifier;
  bool nested_virtualization = false;
};

// ---- storage ----------------------------------------------------------------------------------

// One storage attachment on the bus it names, in config order (the guest enumerates disks in
// this order: vda, vdb, ... for virtio): a VZDiskImageStorageDeviceAttachment for an image file,
// a VZDiskBlockDeviceStorageDeviceAttachment (macOS 14) over an open descriptor for a block
// device.
struct StoragePlan {
  std::filesystem::path path;
  DiskFormat format = DiskFormat::raw;  // raw or asif: VZ recognises the format by itself
  bool read_only = false;
  bool block_device = false;
  // Image files only: a block device has no caching mode in VZ (the host's buffer cache is
  // chosen by the device node: /dev/diskN is buffered, /dev/rdiskN is not).
  CachingMode caching = CachingMode::cached;
  // For a block device VZDiskSynchronizationMode knows only full and none: `fsync` is planned
  // as `full` (the guest's flushes reach the device), so the plan never holds fsync there.
  SyncMode sync = SyncMode::fsync;
  BlockBus bus = BlockBus::virtio;
  std::optional<std::string> device_id;  // virtio-blk blockDeviceIdentifier
};

// ---- networks ---------------------------------------------------------------------------------

// VZNATNetworkDeviceAttachment. VZ's NAT forwards nothing: vmm relays each TCP forward to the
// guest's address, found by MAC in the host's DHCP leases (nat_forwarder.hpp).
struct NatAttachmentPlan {
  std::vector<PortForward> forwards;  // TCP only (make_plan refuses UDP)
};
struct BridgedAttachmentPlan { std::string interface; };  // VZBridgedNetworkDeviceAttachment
// VZFileHandleNetworkDeviceAttachment over the caller's connected datagram socket (borrowed).
struct FileHandleAttachmentPlan {
  int fd = -1;
  std::uint32_t mtu = 1500;
};
// VZ has no attachment for a socket path: the backend makes its own SOCK_DGRAM socket bound to
// `local` (in the work directory), connects it to `peer` and hands it to a
// VZFileHandleNetworkDeviceAttachment. VZ needs the receive buffer well above the send buffer.
struct UnixDatagramAttachmentPlan {
  std::filesystem::path local;
  std::filesystem::path peer;
  std::uint32_t mtu = 1500;
  int send_buffer = 0;
  int receive_buffer = 0;
};
struct VmnetAttachmentPlan {  // VZVmnetNetworkDeviceAttachment over a vmnet_network_ref
  std::optional<detail::Ipv4Subnet> subnet;
};

using NetworkAttachmentPlan =
    std::variant<NatAttachmentPlan, BridgedAttachmentPlan, FileHandleAttachmentPlan,
                 UnixDatagramAttachmentPlan, VmnetAttachmentPlan>;

struct NetworkPlan {  // VZVirtioNetworkDeviceConfiguration
  NetworkAttachmentPlan attachment;
  MacAddress mac;  // always the config's, so that a restore sees the same MACs
};

// ---- serial -----------------------------------------------------------------------------------

struct SerialFilePlan {  // VZFileSerialPortAttachment
  std::filesystem::path path;
  bool append = true;
};
struct SerialFdPlan {  // VZFileHandleSerialPortAttachment on a borrowed fd
  int fd = -1;
};
// VZFileHandleSerialPortAttachment on a pipe whose read end the backend splits into console
// lines; the bytes also go to `tee` when the config asked for a file or fd as well.
struct SerialPipePlan {
  std::variant<std::monostate, SerialFilePlan, SerialFdPlan> tee;
};

using SerialPlan = std::variant<std::monostate, SerialFilePlan, SerialFdPlan, SerialPipePlan>;

// ---- the whole plan ---------------------------------------------------------------------------

struct Plan {
  std::uint32_t cpus = 0;
  std::uint64_t memory_bytes = 0;
  BootPlan boot;
  PlatformPlan platform;
  std::vector<StoragePlan> storage;
  std::vector<NetworkPlan> networks;
  std::vector<VirtiofsShare> shares;        // VZVirtioFileSystemDeviceConfiguration each
  std::optional<std::string> rosetta_tag;   // VZLinuxRosettaDirectoryShare under this tag
  bool vsock = false;                       // VZVirtioSocketDeviceConfiguration
  bool entropy = false;                     // VZVirtioEntropyDeviceConfiguration
  bool balloon = false;                     // VZVirtioTraditionalMemoryBalloonDeviceConfiguration
  SerialPlan serial;                        // VZVirtioConsoleDeviceSerialPortConfiguration
  // One VZVirtioConsoleDeviceConfiguration in consoleDevices when not empty, with a
  // VZVirtioConsolePortConfiguration per name at index 0, 1, ... over a
  // VZFileHandleSerialPortAttachment on a socketpair (console_ports.hpp); macOS 13.
  std::vector<std::string> console_ports;
  // Why this VM cannot be saved/restored on this host, if it cannot.
  std::optional<Error> save_blocker;
};

struct PlanOptions {
  std::filesystem::path work_dir;  // where the backend may create sockets
  bool console_lines = false;      // CreateOptions::on_console_line is set
  // Which disk paths are block devices. Empty: none are (make_plan stays a pure function);
  // make_checked_plan() fills in the real check (block_device.hpp) when it is empty.
  std::function<bool(const std::filesystem::path&)> is_block_device;
};

// Buffer sizes for the backend's own datagram sockets: 4x as the reference advises.
inline constexpr int unix_datagram_send_buffer = 1 << 20;
inline constexpr int unix_datagram_receive_buffer = 4 << 20;
// The path limit on macOS (sun_path is 104 bytes with the NUL), decided in src/runtime/posix.hpp.
using detail::max_unix_socket_path;

// The whole decision. Errors: `unsupported` naming the feature and the macOS version it needs
// (or the hardware it lacks); `invalid_config` naming the host limit a value exceeds.
Result<Plan> make_plan(const VmConfig& config, const HostFacts& host, const PlanOptions& options);

// Whether the machine gets a serial port: for serial() and also for on_console_line (the pipe).
// VZ compares the device list on restore, so snapshots record this (Engine::has_serial_port).
bool has_serial_port(const Plan& plan);

// Why a config cannot be saved on this host, or nullopt when it can (part of make_plan).
std::optional<Error> save_blocker(const VmConfig& config, const HostFacts& host);

// make_plan() with the disks examined on the file system (block device or not), then on arm64
// hosts the check that a Linux kernel is an uncompressed Image (reads the kernel file): VZ would
// otherwise fail at start with an internal error.
Result<Plan> make_checked_plan(const VmConfig& config, const HostFacts& host,
                               const PlanOptions& options);

}  // namespace vmm::vz
