// vmm vz: NSError and Objective-C exceptions -> vmm::Error, as portable functions so that the
// mapping is tested everywhere; the .mm files only extract domain, code and text.
#pragma once

#include <string_view>

#include "vmm/error.hpp"

namespace vmm::vz {

inline constexpr std::string_view vz_error_domain = "VZErrorDomain";
inline constexpr std::string_view virtualization_entitlement = "com.apple.security.virtualization";
inline constexpr std::string_view networking_entitlement = "com.apple.vm.networking";

// The Errc for a VZErrorDomain code (VZErrorCode 1..12); backend for codes it does not know.
Errc errc_for_vz_code(long code) noexcept;

// "<context>: <description> (VZErrorDomain 2: invalid configuration)". A missing
// virtualization entitlement (code 2 whose description mentions an entitlement) becomes
// `unsupported` with a message naming com.apple.security.virtualization and how to sign.
// Errors from other domains are `backend`, or `io` for NSPOSIXErrorDomain.
Error error_from_ns_error(std::string_view domain, long code, std::string_view description,
                          std::string_view context);

// An Objective-C exception caught around a framework call. NSInvalidArgumentException (a bad
// URL, share name or tag) is invalid_config; anything else is backend.
Error error_from_exception(std::string_view name, std::string_view reason,
                           std::string_view context);

// validateSaveRestoreSupportWithError: refused: `unsupported`, with the framework's description
// verbatim (it names the device, e.g. "Unsupported console device in configuration"); the core
// prefixes the operation ("save: ..."). An empty description still says who refused.
Error save_restore_refusal(std::string_view description);

}  // namespace vmm::vz
