// vmm vz: disks whose path is a block device (/dev/diskN, /dev/rdiskN). VZ attaches those with
// VZDiskBlockDeviceStorageDeviceAttachment (macOS 14) over an open file handle, not by URL.
#pragma once

#include <filesystem>

#include "vmm/error.hpp"
#include "vmm/file_descriptor.hpp"
#include "vz/plan.hpp"

namespace vmm::vz {

// Whether `path` (followed through symlinks) is a block device. False when it cannot be
// examined: config validation has already reported a missing disk.
bool is_block_device(const std::filesystem::path& path);

// Opens a planned block-device disk for its attachment: O_RDONLY when the disk is read-only
// (as VZ's header recommends), O_RDWR otherwise; close-on-exec. An error names the disk and
// the reason (devices usually need root or a granted permission).
Result<FileDescriptor> open_block_device(const StoragePlan& disk);

}  // namespace vmm::vz
