// vmm internal: the one table of names for each config enum, used by to_string() and by the
// JSON reader, so that what is written is exactly what is read back.
#pragma once

#include <array>
#include <optional>
#include <string_view>
#include <utility>

#include "vmm/devices.hpp"

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
