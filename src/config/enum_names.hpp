// vmm internal: the one table of names for each public enum, used by to_string()
// (src/config/enum_names.cpp) and by the JSON reader, so that what is written is exactly what is
// read back; likewise the one table of kind names for each variant of the config (boot, network
// attachment, serial console), used by network_kind() and the JSON writer and reader. Backend names are the exception: they live in the backend table
// (src/machine/backends.cpp), the only list of backends.
#pragma once

#include <array>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "vmm/devices.hpp"
#include "vmm/error.hpp"
#include "vmm/isolation.hpp"
#include "vmm/qemu_options.hpp"
#include "vmm/state.hpp"

namespace vmm::detail {

template <typename E, std::size_t N>
using NameTable = std::array<std::pair<E, std::string_view>, N>;

inline constexpr NameTable<DiskFormat, 3> kDiskFormatNames{
    {{DiskFormat::raw, "raw"}, {DiskFormat::asif, "asif"}, {DiskFormat::qcow2, "qcow2"}}};
inline constexpr NameTable<CachingMode, 3> kCachingModeNames{{{CachingMode::automatic, "automatic"},
                                                              {CachingMode::cached, "cached"},
                                                              {CachingMode::uncached, "uncached"}}};
inline constexpr NameTable<SyncMode, 3> kSyncModeNames{
    {{SyncMode::full, "full"}, {SyncMode::fsync, "fsync"}, {SyncMode::none, "none"}}};
inline constexpr NameTable<BlockBus, 3> kBlockBusNames{
    {{BlockBus::virtio, "virtio"}, {BlockBus::nvme, "nvme"}, {BlockBus::usb, "usb"}}};

inline constexpr NameTable<Protocol, 2> kProtocolNames{
    {{Protocol::tcp, "tcp"}, {Protocol::udp, "udp"}}};

inline constexpr NameTable<Errc, 8> kErrcNames{{{Errc::invalid_config, "invalid_config"},
                                                {Errc::invalid_state, "invalid_state"},
                                                {Errc::unsupported, "unsupported"},
                                                {Errc::not_found, "not_found"},
                                                {Errc::io, "io"},
                                                {Errc::backend, "backend"},
                                                {Errc::timeout, "timeout"},
                                                {Errc::cancelled, "cancelled"}}};
inline constexpr NameTable<VmState, 10> kVmStateNames{{{VmState::stopped, "stopped"},
                                                       {VmState::starting, "starting"},
                                                       {VmState::running, "running"},
                                                       {VmState::pausing, "pausing"},
                                                       {VmState::paused, "paused"},
                                                       {VmState::resuming, "resuming"},
                                                       {VmState::stopping, "stopping"},
                                                       {VmState::saving, "saving"},
                                                       {VmState::restoring, "restoring"},
                                                       {VmState::error, "error"}}};
inline constexpr NameTable<Acceleration, 4> kAccelerationNames{{{Acceleration::automatic, "automatic"},
                                                                {Acceleration::kvm, "kvm"},
                                                                {Acceleration::tcg, "tcg"},
                                                                {Acceleration::hvf, "hvf"}}};
inline constexpr NameTable<Sandbox, 3> kSandboxNames{
    {{Sandbox::automatic, "automatic"}, {Sandbox::required, "required"}, {Sandbox::off, "off"}}};

// ---- variant kinds ---------------------------------------------------------------------------------

// The index of alternative `T` in variant `V`, as std::variant::index() reports it.
template <typename T, typename... Ts>
constexpr std::size_t alternative_index_in(const std::variant<Ts...>*) {
  constexpr bool same[] = {std::is_same_v<T, Ts>...};
  for (std::size_t i = 0; i < sizeof...(Ts); ++i) {
    if (same[i]) return i;
  }
  return sizeof...(Ts);
}
template <typename V, typename T>
inline constexpr std::size_t alternative_index =
    alternative_index_in<T>(static_cast<const V*>(nullptr));

// A variant's kind names, by alternative index: exactly one name per alternative.
template <typename V>
struct KindTable {
  std::array<std::string_view, std::variant_size_v<V>> names;
};

inline constexpr KindTable<Boot> kBootKindNames{{"linux", "efi"}};
static_assert(alternative_index<Boot, LinuxBoot> == 0 && alternative_index<Boot, EfiBoot> == 1);

inline constexpr KindTable<NetworkAttachment> kNetworkKindNames{
    {"nat", "bridged", "file_handle", "unix_datagram", "vmnet", "tap"}};
static_assert(alternative_index<NetworkAttachment, NatNetwork> == 0 &&
              alternative_index<NetworkAttachment, BridgedNetwork> == 1 &&
              alternative_index<NetworkAttachment, FileHandleNetwork> == 2 &&
              alternative_index<NetworkAttachment, UnixDatagramNetwork> == 3 &&
              alternative_index<NetworkAttachment, VmnetNetwork> == 4 &&
              alternative_index<NetworkAttachment, TapNetwork> == 5);

inline constexpr KindTable<SerialConsole> kSerialKindNames{{"none", "file", "fd"}};
static_assert(alternative_index<SerialConsole, std::monostate> == 0 &&
              alternative_index<SerialConsole, SerialToFile> == 1 &&
              alternative_index<SerialConsole, SerialToFd> == 2);

template <typename V>
constexpr std::string_view kind_name(const KindTable<V>& table, const V& value) {
  return table.names[value.index()];
}

// The alternative index named `name`, or nullopt.
template <typename V>
constexpr std::optional<std::size_t> kind_index(const KindTable<V>& table, std::string_view name) {
  for (std::size_t i = 0; i < table.names.size(); ++i) {
    if (table.names[i] == name) return i;
  }
  return std::nullopt;
}

// ---- lookups -------------------------------------------------------------------------------------

// "unknown" is only reachable with a value cast from outside the enum.
template <typename E, std::size_t N>
constexpr std::string_view name_of(const NameTable<E, N>& table, E value) {
  for (const auto& [v, name] : table)
    if (v == value) return name;
  return "unknown";
}

template <typename E, std::size_t N>
constexpr std::optional<E> value_of(const NameTable<E, N>& table, std::string_view name) {
  for (const auto& [v, n] : table)
    if (n == name) return v;
  return std::nullopt;
}

}  // namespace vmm::detail
