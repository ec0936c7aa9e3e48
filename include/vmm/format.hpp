// vmm: fmt formatters for the library's error and enum types, e.g. fmt::format("{}", error).
#pragma once

#include <fmt/format.h>

#include <string_view>

#include "vmm/config.hpp"
#include "vmm/error.hpp"
#include "vmm/mac_address.hpp"
#include "vmm/metrics.hpp"
#include "vmm/size.hpp"
#include "vmm/state.hpp"
#include "vmm/virtual_machine.hpp"

namespace vmm::detail {
// Formats any type that has a to_string() found by ADL or as a member.
template <typename T>
struct ToStringFormatter : fmt::formatter<std::string_view> {
  template <typename FormatContext>
  auto format(const T& value, FormatContext& ctx) const {
    if constexpr (requires { value.to_string(); }) {
      const auto text = value.to_string();
      return fmt::formatter<std::string_view>::format(std::string_view(text), ctx);
    } else {
      return fmt::formatter<std::string_view>::format(std::string_view(to_string(value)), ctx);
    }
  }
};
}  // namespace vmm::detail

template <> struct fmt::formatter<vmm::Errc> : vmm::detail::ToStringFormatter<vmm::Errc> {};
template <> struct fmt::formatter<vmm::Error> : vmm::detail::ToStringFormatter<vmm::Error> {};
template <> struct fmt::formatter<vmm::VmState> : vmm::detail::ToStringFormatter<vmm::VmState> {};
template <> struct fmt::formatter<vmm::Size> : vmm::detail::ToStringFormatter<vmm::Size> {};
template <>
struct fmt::formatter<vmm::MacAddress> : vmm::detail::ToStringFormatter<vmm::MacAddress> {};
template <>
struct fmt::formatter<vmm::DiskFormat> : vmm::detail::ToStringFormatter<vmm::DiskFormat> {};
template <>
struct fmt::formatter<vmm::CachingMode> : vmm::detail::ToStringFormatter<vmm::CachingMode> {};
template <> struct fmt::formatter<vmm::SyncMode> : vmm::detail::ToStringFormatter<vmm::SyncMode> {};
template <> struct fmt::formatter<vmm::BlockBus> : vmm::detail::ToStringFormatter<vmm::BlockBus> {};
template <> struct fmt::formatter<vmm::Backend> : vmm::detail::ToStringFormatter<vmm::Backend> {};
template <>
struct fmt::formatter<vmm::VmMetrics> : vmm::detail::ToStringFormatter<vmm::VmMetrics> {};
template <>
struct fmt::formatter<vmm::Acceleration> : vmm::detail::ToStringFormatter<vmm::Acceleration> {};
