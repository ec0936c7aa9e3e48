// vmm internal: the one table of names for each public enum, used by to_string()
// (src/config/enum_names.cpp) and by the JSON reader, so that what is written is exactly what is
// read back. Backend names are the exception: they live in the backend table
// (src/machine/backends.cpp), the only list of backends.
#pragma once

#include <array>
#include <optional>
#include <string_view>
#include <utility>

#include "vmm/devices.hpp"
#include "vmm/error.hpp"
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
inline constexpr NameTable<Acceleration, 3> kAccelerationNames{{{Acceleration::automatic, "automatic"},
                                                                {Acceleration::kvm, "kvm"},
                                                                {Acceleration::tcg, "tcg"}}};

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
