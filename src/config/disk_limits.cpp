// vmm internal: the rules for disk rate limits. They are QEMU's own throttle rules
// (util/throttle.c, throttle_is_valid), checked at build() so that a bad limit is refused with
// the field's name instead of by QEMU at start, and so that a config means the same on every host.
#include "config/disk_limits.hpp"

#include <fmt/format.h>

namespace vmm::detail {
namespace {

Unexpected invalid_limit(const std::string& field, const std::string& message) {
  return make_error(Errc::invalid_config, field + ": " + message);
}

Result<void> check_rate(const std::string& field, const RateLimit& rate) {
  constexpr auto max = RateLimit::max_value;
  if (rate.per_second > max)
    return invalid_limit(field + ".per_second",
                         fmt::format("{} is above the largest rate, {}", rate.per_second, max));
  if (rate.burst > max)
    return invalid_limit(field + ".burst",
                         fmt::format("{} is above the largest rate, {}", rate.burst, max));
  if (rate.burst != 0 && !rate.limited())
    return invalid_limit(field + ".burst",
                         fmt::format("a burst of {} is given without a rate (per_second is 0, "
                                     "which means no limit)",
                                     rate.burst));
  if (rate.burst != 0 && rate.burst < rate.per_second)
    return invalid_limit(field + ".burst",
                         fmt::format("{} is below the rate per_second {} (a burst is the higher "
                                     "rate allowed for a while)",
                                     rate.burst, rate.per_second));
  if (rate.burst_seconds == 0)
    return invalid_limit(field + ".burst_seconds", "0 seconds (a burst lasts at least 1 second)");
  if (rate.burst == 0 && rate.burst_seconds != 1)
    return invalid_limit(field + ".burst_seconds",
                         fmt::format("{} seconds are given without a burst", rate.burst_seconds));
  if (rate.burst != 0 && rate.burst_seconds > max / rate.burst)
    return invalid_limit(field + ".burst_seconds",
                         fmt::format("a burst of {} for {} seconds is above QEMU's ceiling of {}",
                                     rate.burst, rate.burst_seconds, max));
  return {};
}

}  // namespace

Result<void> check_disk_limits(const std::string& field, const DiskLimits& limits) {
  for (const auto& entry : kDiskLimitFields) {
    const auto name = fmt::format("{}.limits.{}", field, entry.name);
    if (auto r = check_rate(name, limits.*entry.member); !r) return r;
  }
  // A total limit counts reads and writes together; QEMU refuses it next to a read or write
  // limit of the same kind, as the two would contradict each other.
  for (const auto& total : kDiskLimitFields) {
    if (total.direction != LimitDirection::total || !(limits.*total.member).limited()) continue;
    for (const auto& part : kDiskLimitFields) {
      if (part.kind != total.kind || part.direction == LimitDirection::total) continue;
      if ((limits.*part.member).limited())
        return invalid_limit(fmt::format("{}.limits.{}", field, total.name),
                             fmt::format("a total limit cannot be combined with {} (it counts "
                                         "reads and writes together)",
                                         part.name));
    }
  }
  return {};
}

}  // namespace vmm::detail
