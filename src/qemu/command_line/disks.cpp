// The disks section: a -blockdev node and a device on the disk's bus per disk.
#include <nlohmann/json.hpp>

#include "config/disk_limits.hpp"
#include "qemu/command_line/sections.hpp"
#include "vmm/format.hpp"

namespace vmm::qemu::sections {
namespace {

using nlohmann::json;

// How caching and sync modes map onto QEMU's two cache knobs:
//  - cache.direct: O_DIRECT, bypassing the host page cache. `uncached` asks for exactly that;
//    `cached` and `automatic` use the page cache (QEMU's own default, writeback).
//  - cache.no-flush: ignore the guest's flush requests. Only `sync none` wants that. Both
//    `full` and `fsync` honour flushes with fdatasync(), which on Linux already reaches stable
//    storage (there is no weaker "fsync" vs "F_FULLFSYNC" split as on macOS).
json cache_options(const DiskImage& disk) {
  return json{{"direct", disk.caching == CachingMode::uncached},
              {"no-flush", disk.sync == SyncMode::none}};
}

// A block device (/dev/sdX, a loop device, an LVM volume) takes QEMU's host_device protocol
// driver, a regular file the file driver: QEMU refuses a block device under `file`. Both take the
// same options (read-only opens O_RDONLY; cache.direct is O_DIRECT, which block devices support),
// so the caching and sync modes mean the same on either.
Result<json> blockdev(const DiskImage& disk, std::size_t index, bool block_device) {
  std::string driver;
  switch (disk.format) {
    case DiskFormat::raw:
      driver = "raw";
      break;
    case DiskFormat::qcow2:
      driver = "qcow2";
      break;
    case DiskFormat::asif:
      return unsupported(fmt::format("disks[{}]: the asif disk format is Apple's and the QEMU "
                                     "backend cannot read it (convert it to raw or qcow2)",
                                     index));
  }
  return json{{"driver", driver},
              {"node-name", fmt::format("disk{}", index)},
              {"read-only", disk.read_only},
              {"cache", cache_options(disk)},
              {"file",
               {{"driver", block_device ? "host_device" : "file"},
                {"filename", disk.path.string()},
                {"read-only", disk.read_only},
                {"aio", "threads"},
                {"cache", cache_options(disk)}}}};
}

// QEMU's ThrottleLimits member for one of the config's limits: "bps-write", "iops-total-max"...
std::string throttle_key(const detail::DiskLimitField& field) {
  const char* kind = field.kind == detail::LimitKind::bytes ? "bps" : "iops";
  const char* direction = field.direction == detail::LimitDirection::read    ? "read"
                          : field.direction == detail::LimitDirection::write ? "write"
                                                                             : "total";
  return fmt::format("{}-{}", kind, direction);
}

// A throttle-group object holding a disk's limits, in the stable `limits` form of QOM's JSON
// syntax (the flat x-bps-* properties are experimental). build() has already applied QEMU's
// rules (config/disk_limits.cpp), so QEMU accepts what is written here.
json throttle_group(const DiskLimits& limits, std::size_t index) {
  json members = json::object();
  for (const auto& field : detail::kDiskLimitFields) {
    const auto& rate = limits.*field.member;
    if (!rate.limited()) continue;
    const auto key = throttle_key(field);
    members[key] = rate.per_second;
    if (rate.burst != 0) {
      members[key + "-max"] = rate.burst;
      members[key + "-max-length"] = rate.burst_seconds;
    }
  }
  return json{{"qom-type", "throttle-group"},
              {"id", fmt::format("throttle{}", index)},
              {"limits", std::move(members)}};
}

// A limited disk's format node is wrapped in a throttle filter node of the disk's group. The
// filter takes the node name the device and query-blockstats know ("disk<N>"), so nothing else
// changes; the format node below it is renamed.
json throttled(json format_node, const DiskImage& disk, std::size_t index) {
  format_node["node-name"] = fmt::format("fmt-disk{}", index);
  return json{{"driver", "throttle"},
              {"node-name", fmt::format("disk{}", index)},
              {"throttle-group", fmt::format("throttle{}", index)},
              {"read-only", disk.read_only},
              {"file", std::move(format_node)}};
}

}  // namespace

Result<void> add_disks(ArgvBuilder& argv, const VmConfig& config, const QemuRuntimePaths& paths,
                       MachineType machine) {
  bool have_usb = false;
  for (std::size_t i = 0; i < config.disks().size(); ++i) {
    const auto& disk = config.disks()[i];
    const bool block_device =
        i < paths.disk_is_block_device.size() && paths.disk_is_block_device[i];
    auto node = blockdev(disk, i, block_device);
    if (!node) return std::move(node).error();
    if (disk.limits.any()) {
      argv.add("-object", throttle_group(disk.limits, i).dump());
      argv.add("-blockdev", throttled(*std::move(node), disk, i).dump());
    } else {
      argv.add("-blockdev", node->dump());
    }
    const std::string serial =
        disk.device_id ? fmt::format(",serial={}", escape_option_value(*disk.device_id)) : "";
    // A host I/O error (e.g. a full disk) goes to the guest as an I/O error, as a physical disk
    // and Virtualization.framework report it. QEMU's default (werror=enospc) would instead stop
    // the whole VM silently while vmm still reported it running. QEMU's nvme has no such
    // property: it always reports errors to the guest.
    const std::string report_errors = ",werror=report,rerror=report";
    switch (disk.bus) {
      case BlockBus::virtio:
        argv.add("-device", fmt::format("{},drive=disk{}{}{}", virtio("virtio-blk", machine), i,
                                        serial, report_errors));
        break;
      case BlockBus::nvme:
        // NVMe controllers require a serial number: default to a stable one per slot.
        argv.add("-device",
                 fmt::format("nvme,drive=disk{},serial={}", i,
                             disk.device_id ? escape_option_value(*disk.device_id)
                                            : fmt::format("vmm-disk{}", i)));
        break;
      case BlockBus::usb:
        if (!have_usb) {
          argv.add("-device", "qemu-xhci,id=usb");
          have_usb = true;
        }
        argv.add("-device",
                 fmt::format("usb-storage,bus=usb.0,drive=disk{}{}{}", i, serial, report_errors));
        break;
    }
  }
  return {};
}

}  // namespace vmm::qemu::sections
