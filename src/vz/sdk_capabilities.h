// vmm vz (Objective-C++ only): which Virtualization.framework and vmnet APIs the SDK this file is
// compiled with declares. `@available` is a run-time gate only: an API newer than the oldest SDK
// vmm supports (the macOS 14 SDK, Xcode 15) must also sit behind one of these compile-time
// switches, whose #else returns the plan's sdk_too_old() error (requirements.hpp).
#pragma once

#include <Availability.h>
#include <AvailabilityMacros.h>

#include "vz/requirements.hpp"

// Older SDKs do not name the newer releases; AvailabilityMacros.h defines each from its own SDK
// on, with the same value, so these only fill the gaps.
#ifndef MAC_OS_VERSION_14_0
#define MAC_OS_VERSION_14_0 140000
#endif
#ifndef MAC_OS_VERSION_15_0
#define MAC_OS_VERSION_15_0 150000
#endif
#ifndef MAC_OS_VERSION_26_0
#define MAC_OS_VERSION_26_0 260000
#endif

#if !defined(__MAC_OS_X_VERSION_MAX_ALLOWED)
#error "vz/sdk_capabilities.h: __MAC_OS_X_VERSION_MAX_ALLOWED is not defined (not a macOS SDK?)"
#endif

#if __MAC_OS_X_VERSION_MAX_ALLOWED < MAC_OS_VERSION_14_0
#error "vmm's Virtualization.framework backend needs the macOS 14 SDK (Xcode 15) or newer"
#endif

// The macOS 14 SDK is the floor, so VZDiskBlockDeviceStorageDeviceAttachment,
// VZDiskSynchronizationMode and VZNVMExpressControllerDeviceConfiguration need @available only.

// +[VZGenericPlatformConfiguration isNestedVirtualizationSupported], nestedVirtualizationEnabled.
#if __MAC_OS_X_VERSION_MAX_ALLOWED >= MAC_OS_VERSION_15_0
#define VMM_VZ_SDK_HAS_NESTED_VIRT 1
#else
#define VMM_VZ_SDK_HAS_NESTED_VIRT 0
#endif

// vmnet_network_configuration_*, vmnet_network_create, vmnet_network_ref and
// VZVmnetNetworkDeviceAttachment.
#if __MAC_OS_X_VERSION_MAX_ALLOWED >= MAC_OS_VERSION_26_0
#define VMM_VZ_SDK_HAS_VMNET_NETWORK 1
#else
#define VMM_VZ_SDK_HAS_VMNET_NETWORK 0
#endif

// saveMachineStateToURL:, restoreMachineStateFromURL: and validateSaveRestoreSupportWithError:
// are declared only for arm64: their uses sit inside `#if defined(__arm64__)` as well.

namespace vmm::vz {

// The SDK this translation unit was compiled with, e.g. 14.2.
inline MacosVersion build_sdk_version() {
  return sdk_version_from_max_allowed(static_cast<long>(__MAC_OS_X_VERSION_MAX_ALLOWED));
}

}  // namespace vmm::vz
