// vmm internal: the six rate limits of a disk by name, the one table the validation rules, the
// JSON writer and reader and the backends walk, so that every limit is named the same everywhere
// ("disks[0].limits.write_bytes.burst").
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "vmm/devices.hpp"
#include "vmm/error.hpp"

namespace vmm::detail {

enum class LimitKind { bytes, iops };
enum class LimitDirection { read, write, total };

struct DiskLimitField {
  std::string_view name;
  RateLimit DiskLimits::*member;
  LimitKind kind;
  LimitDirection direction;
};

inline constexpr std::array<DiskLimitField, 6> kDiskLimitFields{{
    {"read_bytes", &DiskLimits::read_bytes, LimitKind::bytes, LimitDirection::read},
    {"write_bytes", &DiskLimits::write_bytes, LimitKind::bytes, LimitDirection::write},
    {"total_bytes", &DiskLimits::total_bytes, LimitKind::bytes, LimitDirection::total},
    {"read_iops", &DiskLimits::read_iops, LimitKind::iops, LimitDirection::read},
    {"write_iops", &DiskLimits::write_iops, LimitKind::iops, LimitDirection::write},
    {"total_iops", &DiskLimits::total_iops, LimitKind::iops, LimitDirection::total},
}};

// The rules of build() for one disk's limits; `field` is the disk's ("disks[0]"), and errors name
// the limit under it ("disks[0].limits.total_bytes: ...").
Result<void> check_disk_limits(const std::string& field, const DiskLimits& limits);

}  // namespace vmm::detail
