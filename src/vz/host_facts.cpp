#include "vz/host_facts.hpp"

#include "vz/requirements.hpp"

namespace vmm::vz {

std::string MacosVersion::to_string() const {
  return std::to_string(major) + "." + std::to_string(minor);
}

std::string_view to_string(HostArch arch) noexcept {
  switch (arch) {
    case HostArch::arm64:
      return "arm64";
    case HostArch::x86_64:
      return "x86_64";
  }
  return "unknown";
}

std::optional<Error> require_macos(const HostFacts& host, MacosVersion needed,
                                   const std::string& feature) {
  if (host.macos >= needed) return std::nullopt;
  // Whole releases read "macOS 14", point releases "macOS 12.3".
  const std::string version =
      needed.minor == 0 ? std::to_string(needed.major) : needed.to_string();
  return Error(Errc::unsupported, feature + ": needs macOS " + version +
                                      " or later (this host runs macOS " +
                                      host.macos.to_string() + ")");
}

}  // namespace vmm::vz
