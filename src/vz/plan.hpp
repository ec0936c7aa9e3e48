// vmm vz: the plan, every decision the Virtualization.framework backend makes, as plain data.
//
// make_plan() is a pure function of the config, the host facts and a few create options. The
// Objective-C++ half (configuration_builder.mm) only turns each plan entry into the VZ object it
// names; nothing there decides. Each unsupported feature is an error here, naming the feature and
// the macOS version it needs, so nothing is dropped silently and nothing fails late inside VZ.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <variant>
#include <vector>

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

// One VZDiskImageStorageDeviceAttachment on the bus it names, in config order (the guest
// enumerates disks in this order: vda, vdb, ... for virtio).
struct StoragePlan {
  std::filesystem::path path;
  DiskFormat format = DiskFormat::raw;  // raw or asif: VZ recognises the format by itself
  bool read_only = false;
  CachingMode caching = CachingMode::cached;
  SyncMode sync = SyncMode::fsync;
  BlockBus bus = BlockBus::virtio;
  std::optional<std::string> device_id;  // virtio-blk blockDeviceIdentifier
};

// ---- networks ---------------------------------------------------------------------------------

struct NatAttachmentPlan {};                               // VZNATNetworkDeviceAttachment
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
  // Why this VM cannot be saved/restored on this host, if it cannot.
  std::optional<Error> save_blocker;
};

struct PlanOptions {
  std::filesystem::path work_dir;  // where the backend may create sockets
  bool console_lines = false;      // CreateOptions::on_console_line is set
};

// Buffer sizes for the backend's own datagram sockets: 4x as the reference advises.
inline constexpr int unix_datagram_send_buffer = 1 << 20;
inline constexpr int unix_datagram_receive_buffer = 4 << 20;
// sockaddr_un::sun_path is 104 bytes on macOS, including the terminating NUL.
inline constexpr std::size_t max_unix_socket_path = 103;

// The whole decision. Errors: `unsupported` naming the feature and the macOS version it needs
// (or the hardware it lacks); `invalid_config` naming the host limit a value exceeds.
Result<Plan> make_plan(const VmConfig& config, const HostFacts& host, const PlanOptions& options);

// Why a config cannot be saved on this host, or nullopt when it can (part of make_plan).
std::optional<Error> save_blocker(const VmConfig& config, const HostFacts& host);

// make_plan(), then on arm64 hosts the check that a Linux kernel is an uncompressed Image
// (reads the kernel file): VZ would otherwise fail at start with an internal error.
Result<Plan> make_checked_plan(const VmConfig& config, const HostFacts& host,
                               const PlanOptions& options);

}  // namespace vmm::vz
