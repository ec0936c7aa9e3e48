#import "vz/objc/storage_builder.h"

#include <string>

#include "vz/block_device.hpp"
#include "vz/requirements.hpp"
#import "vz/objc/objc_support.h"

namespace vmm::vz {
namespace {

using objc::error_from;
using objc::file_url;
using objc::to_ns;

std::string quoted(const std::filesystem::path& path) { return "\"" + path.string() + "\""; }

API_AVAILABLE(macos(13.0))
VZDiskImageCachingMode caching_mode(CachingMode mode) {
  switch (mode) {
    case CachingMode::automatic:
      return VZDiskImageCachingModeAutomatic;
    case CachingMode::cached:
      return VZDiskImageCachingModeCached;
    case CachingMode::uncached:
      return VZDiskImageCachingModeUncached;
  }
  return VZDiskImageCachingModeCached;
}

API_AVAILABLE(macos(13.0))
VZDiskImageSynchronizationMode synchronization_mode(SyncMode mode) {
  switch (mode) {
    case SyncMode::full:
      return VZDiskImageSynchronizationModeFull;
    case SyncMode::fsync:
      return VZDiskImageSynchronizationModeFsync;
    case SyncMode::none:
      return VZDiskImageSynchronizationModeNone;
  }
  return VZDiskImageSynchronizationModeFsync;
}

// The plan holds only full or none for a block device (fsync was planned as full).
API_AVAILABLE(macos(14.0))
VZDiskSynchronizationMode block_synchronization_mode(SyncMode mode) {
  return mode == SyncMode::none ? VZDiskSynchronizationModeNone : VZDiskSynchronizationModeFull;
}

API_AVAILABLE(macos(14.0))
Result<VZStorageDeviceAttachment*> make_block_device_attachment(const StoragePlan& disk,
                                                                const std::string& what) {
  auto fd = open_block_device(disk);
  if (!fd) return fd.error();
  // The attachment retains the handle, and the handle owns the descriptor from here on.
  NSFileHandle* handle = [[NSFileHandle alloc] initWithFileDescriptor:fd->release()
                                                       closeOnDealloc:YES];
  NSError* error = nil;
  VZDiskBlockDeviceStorageDeviceAttachment* attachment =
      [[VZDiskBlockDeviceStorageDeviceAttachment alloc]
           initWithFileHandle:handle
                     readOnly:disk.read_only ? YES : NO
          synchronizationMode:block_synchronization_mode(disk.sync)
                        error:&error];
  if (attachment == nil) return error_from(error, what);
  return attachment;
}

API_AVAILABLE(macos(13.0))
Result<VZStorageDeviceAttachment*> make_storage_attachment(const StoragePlan& disk,
                                                           const std::string& what) {
  if (disk.block_device) {
    if (@available(macOS 14, *)) {
      return make_block_device_attachment(disk, what);
    }
    return needs_macos(what + ": block devices", macos_for_block_device);
  }
  NSError* error = nil;
  VZDiskImageStorageDeviceAttachment* attachment =
      [[VZDiskImageStorageDeviceAttachment alloc] initWithURL:file_url(disk.path)
                                                     readOnly:disk.read_only ? YES : NO
                                                  cachingMode:caching_mode(disk.caching)
                                          synchronizationMode:synchronization_mode(disk.sync)
                                                        error:&error];
  if (attachment == nil) return error_from(error, what);
  return attachment;
}

}  // namespace

API_AVAILABLE(macos(13.0))
Result<VZStorageDeviceConfiguration*> make_storage_device(const StoragePlan& disk) {
  const std::string what = "disk " + quoted(disk.path);
  auto made = make_storage_attachment(disk, what);
  if (!made) return made.error();
  VZStorageDeviceAttachment* attachment = *made;
  NSError* error = nil;
  switch (disk.bus) {
    case BlockBus::virtio: {
      VZVirtioBlockDeviceConfiguration* device =
          [[VZVirtioBlockDeviceConfiguration alloc] initWithAttachment:attachment];
      if (disk.device_id) {
        NSString* identifier = to_ns(*disk.device_id);
        if (![VZVirtioBlockDeviceConfiguration validateBlockDeviceIdentifier:identifier
                                                                        error:&error]) {
          return error_from(error, what + ": device_id");
        }
        device.blockDeviceIdentifier = identifier;
      }
      return device;
    }
    case BlockBus::nvme:
      if (@available(macOS 14, *)) {
        return [[VZNVMExpressControllerDeviceConfiguration alloc] initWithAttachment:attachment];
      }
      return needs_macos(what + ": NVMe disks", macos_for_nvme);
    case BlockBus::usb:
      return [[VZUSBMassStorageDeviceConfiguration alloc] initWithAttachment:attachment];
  }
  return make_error(Errc::invalid_config, what + ": unknown bus");
}

}  // namespace vmm::vz
