// vmm vz: what the plan needs to know about the host. Queried from the framework on macOS
// (host_facts.mm); made up by tests everywhere else, so each decision is testable on Linux.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

#include "vmm/size.hpp"

namespace vmm::vz {

struct MacosVersion {
  int major = 0;
  int minor = 0;
  friend constexpr auto operator<=>(const MacosVersion&, const MacosVersion&) = default;
  // "14.2"
  std::string to_string() const;
};

enum class HostArch { arm64, x86_64 };

// Values of VZLinuxRosettaAvailability.
enum class RosettaAvailability { not_supported = 0, not_installed = 1, installed = 2 };

struct HostFacts {
  MacosVersion macos;
  HostArch arch = HostArch::arm64;
  // VZVirtualMachineConfiguration's minimumAllowed*/maximumAllowed* class properties.
  std::uint32_t min_cpus = 1;
  std::uint32_t max_cpus = 1;
  Size min_memory;
  Size max_memory;
  // +[VZGenericPlatformConfiguration isNestedVirtualizationSupported] (false before macOS 15).
  bool nested_virtualization_supported = false;
  RosettaAvailability rosetta = RosettaAvailability::not_supported;
  // The macOS SDK this build was compiled with (__MAC_OS_X_VERSION_MAX_ALLOWED): an API newer
  // than it does not exist in this binary whatever the host runs. query_host_facts() sets it;
  // the default is the newest SDK vmm knows, so that a made-up host has no SDK limit.
  MacosVersion sdk{26, 0};
};

std::string_view to_string(HostArch arch) noexcept;

}  // namespace vmm::vz
