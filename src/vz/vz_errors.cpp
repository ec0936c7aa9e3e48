#include "vz/vz_errors.hpp"

#include <algorithm>
#include <cctype>
#include <string>

namespace vmm::vz {
namespace {

std::string_view vz_code_name(long code) noexcept {
  switch (code) {
    case 1: return "internal error";
    case 2: return "invalid configuration";
    case 3: return "invalid state";
    case 4: return "invalid state transition";
    case 5: return "invalid disk image";
    case 6: return "virtual machine limit exceeded";
    case 7: return "network error";
    case 8: return "out of disk space";
    case 9: return "operation cancelled";
    case 10: return "not supported";
    case 11: return "save failed";
    case 12: return "restore failed";
    default: return "unknown code";
  }
}

bool mentions_entitlement(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower.find("entitlement") != std::string::npos;
}

std::string prefixed(std::string_view context, std::string_view text) {
  if (context.empty()) return std::string(text);
  return std::string(context) + ": " + std::string(text);
}

}  // namespace

Errc errc_for_vz_code(long code) noexcept {
  switch (code) {
    case 2:   // invalid configuration
    case 5:   // invalid disk image
      return Errc::invalid_config;
    case 3:   // invalid state
    case 4:   // invalid state transition
      return Errc::invalid_state;
    case 7:   // network
    case 8:   // out of disk space
      return Errc::io;
    case 9:
      return Errc::cancelled;
    case 10:
      return Errc::unsupported;
    case 1:   // internal
    case 6:   // running-VM limit: the hypervisor refused, nothing in the config is wrong
    case 11:  // save
    case 12:  // restore (also after an OS update invalidated the file: cold-start instead)
    default:
      return Errc::backend;
  }
}

Error error_from_ns_error(std::string_view domain, long code, std::string_view description,
                          std::string_view context) {
  if (domain == vz_error_domain) {
    if (code == 2 && mentions_entitlement(description)) {
      return Error(Errc::unsupported,
                   prefixed(context, "the process lacks the " +
                                         std::string(virtualization_entitlement) +
                                         " entitlement; sign it with vmm_codesign() (see "
                                         "docs/macos.md): " +
                                         std::string(description)));
    }
    return Error(errc_for_vz_code(code),
                 prefixed(context, std::string(description) + " (VZErrorDomain " +
                                       std::to_string(code) + ": " +
                                       std::string(vz_code_name(code)) + ")"));
  }
  const Errc errc = domain == "NSPOSIXErrorDomain" ? Errc::io : Errc::backend;
  return Error(errc, prefixed(context, std::string(description) + " (" + std::string(domain) +
                                           " " + std::to_string(code) + ")"));
}

Error error_from_exception(std::string_view name, std::string_view reason,
                           std::string_view context) {
  const Errc errc = name == "NSInvalidArgumentException" ? Errc::invalid_config : Errc::backend;
  return Error(errc, prefixed(context, std::string(reason) + " (" + std::string(name) + ")"));
}

Error save_restore_refusal(std::string_view description) {
  if (description.empty()) {
    return Error(Errc::unsupported,
                 "Virtualization.framework cannot save or restore this configuration "
                 "(validateSaveRestoreSupportWithError: gave no reason)");
  }
  return Error(Errc::unsupported, std::string(description));
}

}  // namespace vmm::vz
