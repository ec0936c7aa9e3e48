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

namespace {
// "14" for 14.0, "12.3" otherwise.
std::string release(MacosVersion version) {
  return version.minor == 0 ? std::to_string(version.major) : version.to_string();
}
}  // namespace

Error needs_macos(const std::string& feature, MacosVersion needed,
                  std::optional<MacosVersion> running) {
  std::string message = feature + ": needs macOS " + release(needed) + " or later";
  if (running) message += " (this host runs macOS " + running->to_string() + ")";
  return Error(Errc::unsupported, std::move(message));
}

std::optional<Error> require_macos(const HostFacts& host, MacosVersion needed,
                                   const std::string& feature) {
  if (host.macos >= needed) return std::nullopt;
  return needs_macos(feature, needed, host.macos);
}

Error save_restore_unsupported(const std::optional<HostFacts>& host) {
  std::string message = "save/restore needs macOS " + release(macos_for_save_restore) +
                        " or later on an Apple silicon (arm64) Mac";
  if (host) {
    message += "; this host runs macOS " + host->macos.to_string() + " on " +
               std::string(to_string(host->arch));
  }
  return Error(Errc::unsupported, std::move(message));
}

MacosVersion sdk_version_from_max_allowed(long max_allowed) noexcept {
  // macOS 11 and later: MMmmpp. Before: 10.x as 10x0 (1090) or 10xx00 (101500).
  if (max_allowed >= 100000) {
    return MacosVersion{static_cast<int>(max_allowed / 10000),
                        static_cast<int>((max_allowed / 100) % 100)};
  }
  return MacosVersion{static_cast<int>(max_allowed / 100), static_cast<int>((max_allowed / 10) % 10)};
}

Error sdk_too_old(const std::string& subject_needs, MacosVersion needed, MacosVersion sdk) {
  return Error(Errc::unsupported, subject_needs + " macOS " + release(needed) + " and a macOS " +
                                      release(needed) + " SDK; this build used SDK " +
                                      sdk.to_string() + " (rebuild vmm with a newer Xcode)");
}

std::optional<Error> require_sdk(const HostFacts& host, MacosVersion needed,
                                 const std::string& subject_needs) {
  if (host.sdk >= needed) return std::nullopt;
  return sdk_too_old(subject_needs, needed, host.sdk);
}

}  // namespace vmm::vz
