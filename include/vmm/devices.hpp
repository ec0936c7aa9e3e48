// vmm: the value types a VmConfig is made of. Plain data: validation happens in
// VmConfigBuilder::build(), which names the field of any value that is wrong.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "vmm/mac_address.hpp"

namespace vmm {

// ---- boot -------------------------------------------------------------------------------------

struct LinuxBoot {
  std::filesystem::path kernel;
  std::optional<std::filesystem::path> initrd;
  std::string command_line;
  // Appended to command_line, space-separated, in order (e.g. "console=hvc0" added by a tool).
  std::vector<std::string> extra_command_line;

  // command_line followed by the extra fragments.
  std::string full_command_line() const;
  friend bool operator==(const LinuxBoot&, const LinuxBoot&) = default;
};

struct EfiBoot {
  std::filesystem::path variable_store;
  bool create_if_missing = true;
  friend bool operator==(const EfiBoot&, const EfiBoot&) = default;
};

using Boot = std::variant<LinuxBoot, EfiBoot>;

// ---- networks ---------------------------------------------------------------------------------

enum class Protocol { tcp, udp };
std::string_view to_string(Protocol) noexcept;

// A host address and port that reach a guest port through a NAT network (QEMU: hostfwd).
// Checked by build(): ports 1..65535, the host address an IPv4 address ("0.0.0.0": every
// interface), no host port forwarded twice for one protocol.
struct PortForward {
  Protocol protocol = Protocol::tcp;
  std::string host_address = "127.0.0.1";
  std::uint32_t host_port = 0;
  std::uint32_t guest_port = 0;
  friend bool operator==(const PortForward&, const PortForward&) = default;
};

struct NatNetwork {
  std::vector<PortForward> forwards;
  friend bool operator==(const NatNetwork&, const NatNetwork&) = default;
};

struct BridgedNetwork {
  std::string interface;  // host interface name, e.g. "en0"
  friend bool operator==(const BridgedNetwork&, const BridgedNetwork&) = default;
};

// A connected SOCK_DGRAM socket whose other end carries Ethernet frames. The fd is borrowed:
// the caller keeps it open for the VM's life.
struct FileHandleNetwork {
  int fd = -1;
  std::uint32_t mtu = 1500;  // 1500..65535
  friend bool operator==(const FileHandleNetwork&, const FileHandleNetwork&) = default;
};

// A unix datagram socket path (e.g. a vmnet-helper, gvproxy or passt-style peer).
struct UnixDatagramNetwork {
  std::filesystem::path socket;
  std::uint32_t mtu = 1500;  // 1500..65535
  friend bool operator==(const UnixDatagramNetwork&, const UnixDatagramNetwork&) = default;
};

// macOS 26 vmnet shared network, optionally on a given IPv4 subnet ("192.168.105.0/24").
struct VmnetNetwork {
  std::optional<std::string> subnet;
  friend bool operator==(const VmnetNetwork&, const VmnetNetwork&) = default;
};

// A Linux tap interface, opened by name (QEMU backend; in CreateOptions::isolation's network
// namespace when one is given). The caller creates it (`ip tuntap add NAME mode tap`).
struct TapNetwork {
  std::string ifname;  // 1..15 bytes, no '/', ':' or white space (a Linux interface name)
  friend bool operator==(const TapNetwork&, const TapNetwork&) = default;
};

using NetworkAttachment = std::variant<NatNetwork, BridgedNetwork, FileHandleNetwork,
                                       UnixDatagramNetwork, VmnetNetwork, TapNetwork>;

// As held by a built VmConfig: every network has its MAC.
struct NetworkDevice {
  NetworkAttachment attachment;
  MacAddress mac;
  friend bool operator==(const NetworkDevice&, const NetworkDevice&) = default;
};

// "nat", "bridged", "file_handle", "unix_datagram", "vmnet", "tap".
std::string_view network_kind(const NetworkAttachment& attachment);

// ---- directory shares (virtiofs) --------------------------------------------------------------

struct SharedDirectory {
  std::filesystem::path directory;
  bool read_only = false;
  friend bool operator==(const SharedDirectory&, const SharedDirectory&) = default;
};

// One virtiofs device. `source` is a single directory, or several directories presented under
// their names as subdirectories of the mount (VZMultipleDirectoryShare).
struct VirtiofsShare {
  std::string tag;  // the guest's mount tag: non-empty, at most 36 bytes of UTF-8
  std::variant<SharedDirectory, std::map<std::string, SharedDirectory>> source;
  friend bool operator==(const VirtiofsShare&, const VirtiofsShare&) = default;
};

// ---- block devices ----------------------------------------------------------------------------

enum class DiskFormat { raw, asif, qcow2 };
enum class CachingMode { automatic, cached, uncached };
enum class SyncMode { full, fsync, none };
enum class BlockBus { virtio, nvme, usb };

std::string_view to_string(DiskFormat) noexcept;
std::string_view to_string(CachingMode) noexcept;
std::string_view to_string(SyncMode) noexcept;
std::string_view to_string(BlockBus) noexcept;

// A rate with an optional burst, in QEMU's throttling model: `per_second` on average, and during
// a burst up to `burst` per second for at most `burst_seconds`, after which the rate falls back
// to `per_second` until the unused allowance has built up again. 0 means "no limit" (and a burst
// needs a rate under it).
struct RateLimit {
  std::uint64_t per_second = 0;
  std::uint64_t burst = 0;          // 0: no burst; otherwise at least per_second
  std::uint32_t burst_seconds = 1;  // how long a burst may last; only with a burst
  // QEMU's ceiling for any rate, and for burst * burst_seconds.
  static constexpr std::uint64_t max_value = 1'000'000'000'000'000;
  bool limited() const noexcept { return per_second != 0; }
  friend bool operator==(const RateLimit&, const RateLimit&) = default;
};

// Disk rate limits (QEMU: a throttle group per disk; unsupported on VZ). Bytes and operations
// (IOPS) per second, each for reads, writes or both together. As in QEMU, a total limit cannot be
// combined with a read or write limit of the same kind.
struct DiskLimits {
  RateLimit read_bytes, write_bytes, total_bytes;
  RateLimit read_iops, write_iops, total_iops;
  bool any() const noexcept {
    return read_bytes.limited() || write_bytes.limited() || total_bytes.limited() ||
           read_iops.limited() || write_iops.limited() || total_iops.limited();
  }
  friend bool operator==(const DiskLimits&, const DiskLimits&) = default;
};

struct DiskImage {
  std::filesystem::path path;
  DiskFormat format = DiskFormat::raw;
  bool read_only = false;
  // Linux guests corrupt their filesystems under `automatic` caching on macOS: default to
  // cached + fsync, as the hypervisor communities learned.
  CachingMode caching = CachingMode::cached;
  SyncMode sync = SyncMode::fsync;
  BlockBus bus = BlockBus::virtio;
  std::optional<std::string> device_id;  // serial the guest sees; at most 20 ASCII bytes
  DiskLimits limits;                      // none by default
  friend bool operator==(const DiskImage&, const DiskImage&) = default;
};

// Index of a block device in VmConfig::disks(), as returned by VmConfigBuilder::add_disk().
struct BlockDeviceId {
  std::uint32_t index = 0;
  friend constexpr auto operator<=>(BlockDeviceId, BlockDeviceId) = default;
};

// ---- other devices ----------------------------------------------------------------------------

struct VsockDevice {
  friend bool operator==(const VsockDevice&, const VsockDevice&) = default;
};

// A named host<->guest byte channel (virtio-serial port): the guest sees
// /dev/virtio-ports/<name>; the host gets a stream descriptor per run
// (VirtualMachine::console_port). Names: 1-63 bytes of [A-Za-z0-9._-], unique.
struct ConsolePort {
  std::string name;
  friend bool operator==(const ConsolePort&, const ConsolePort&) = default;
};

struct MemoryBalloon {
  friend bool operator==(const MemoryBalloon&, const MemoryBalloon&) = default;
};

struct SerialToFile {
  std::filesystem::path path;
  bool append = true;
  friend bool operator==(const SerialToFile&, const SerialToFile&) = default;
};

// An fd the VM writes guest output to (and reads input from, if readable). Borrowed.
struct SerialToFd {
  int fd = -1;
  friend bool operator==(const SerialToFd&, const SerialToFd&) = default;
};

// std::monostate: no serial console.
using SerialConsole = std::variant<std::monostate, SerialToFile, SerialToFd>;

}  // namespace vmm
