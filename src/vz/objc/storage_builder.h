// vmm vz (Objective-C++ only): StoragePlan -> the storage device configuration it names: an image
// file through VZDiskImageStorageDeviceAttachment, a block device through
// VZDiskBlockDeviceStorageDeviceAttachment (macOS 14), on a virtio, NVMe or USB bus.
#pragma once

#import <Virtualization/Virtualization.h>

#include "vmm/error.hpp"
#include "vz/plan.hpp"

namespace vmm::vz {

API_AVAILABLE(macos(13.0))
Result<VZStorageDeviceConfiguration*> make_storage_device(const StoragePlan& disk);

}  // namespace vmm::vz
