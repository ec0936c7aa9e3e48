#import <Foundation/Foundation.h>
#import <Virtualization/Virtualization.h>

#include <algorithm>
#include <cstdint>
#include <limits>

#include "vz/objc/host_query.h"
#include "vz/sdk_capabilities.h"

namespace vmm::vz {
namespace {

std::uint32_t clamp_count(NSUInteger count) {
  return static_cast<std::uint32_t>(
      std::min<NSUInteger>(count, std::numeric_limits<std::uint32_t>::max()));
}

#if defined(__arm64__)
API_AVAILABLE(macos(13.0))
RosettaAvailability rosetta_availability() {
  switch ([VZLinuxRosettaDirectoryShare availability]) {
    case VZLinuxRosettaAvailabilityInstalled:
      return RosettaAvailability::installed;
    case VZLinuxRosettaAvailabilityNotInstalled:
      return RosettaAvailability::not_installed;
    case VZLinuxRosettaAvailabilityNotSupported:
      return RosettaAvailability::not_supported;
  }
  return RosettaAvailability::not_supported;
}
#endif

}  // namespace

HostFacts query_host_facts() {
  HostFacts facts;
  const NSOperatingSystemVersion version = NSProcessInfo.processInfo.operatingSystemVersion;
  facts.macos = MacosVersion{static_cast<int>(version.majorVersion),
                             static_cast<int>(version.minorVersion)};
#if defined(__arm64__)
  facts.arch = HostArch::arm64;
#else
  facts.arch = HostArch::x86_64;
#endif
  facts.min_cpus = clamp_count(VZVirtualMachineConfiguration.minimumAllowedCPUCount);
  facts.max_cpus = clamp_count(VZVirtualMachineConfiguration.maximumAllowedCPUCount);
  facts.min_memory = Size::bytes(VZVirtualMachineConfiguration.minimumAllowedMemorySize);
  facts.max_memory = Size::bytes(VZVirtualMachineConfiguration.maximumAllowedMemorySize);
  facts.sdk = build_sdk_version();
#if VMM_VZ_SDK_HAS_NESTED_VIRT
  if (@available(macOS 15, *)) {
    facts.nested_virtualization_supported =
        VZGenericPlatformConfiguration.nestedVirtualizationSupported ? true : false;
  }
#endif
#if defined(__arm64__)
  if (@available(macOS 13, *)) {
    facts.rosetta = rosetta_availability();
  }
#endif
  return facts;
}

}  // namespace vmm::vz
