// vmm vz: the first macOS version of each feature the plan can ask for (see
// /work/shared/reference/virtualization-framework.md and docs/macos.md), and the one place
// that words "needs macOS ..." errors: the plan and src/vz/objc/*.mm call the functions below
// instead of writing version text of their own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "vmm/error.hpp"
#include "vz/host_facts.hpp"

namespace vmm::vz {

// The backend as a whole: VZGenericMachineIdentifier and the EFI loader arrive in 13, and a VM
// without a stable machine identifier could never be restored.
inline constexpr MacosVersion macos_for_backend{13, 0};
inline constexpr MacosVersion macos_for_efi{13, 0};
inline constexpr MacosVersion macos_for_usb_storage{13, 0};
inline constexpr MacosVersion macos_for_file_handle_mtu{13, 0};
inline constexpr MacosVersion macos_for_rosetta{13, 0};
inline constexpr MacosVersion macos_for_nvme{14, 0};
inline constexpr MacosVersion macos_for_block_device{14, 0};
inline constexpr MacosVersion macos_for_save_restore{14, 0};
inline constexpr MacosVersion macos_for_nested{15, 0};
inline constexpr MacosVersion macos_for_asif{26, 0};
inline constexpr MacosVersion macos_for_vmnet{26, 0};
// -[VZVirtualMachine stopWithCompletionHandler:] and canStop.
inline constexpr MacosVersion macos_for_hard_stop{12, 0};

// VZFileHandleNetworkDeviceAttachment's MTU before macOS 13 made it settable.
inline constexpr std::uint32_t default_mtu = 1500;

// nullopt when the host runs `needed` or later; otherwise an `unsupported` error
// "<feature>: needs macOS <needed> or later (this host runs macOS <x.y>)".
std::optional<Error> require_macos(const HostFacts& host, MacosVersion needed,
                                   const std::string& feature);

// The `unsupported` error "<feature>: needs macOS <needed> or later", followed by
// " (this host runs macOS <x.y>)" when `running` is known. require_macos() words its error
// with it; the .mm files return it from an `@available` else-branch, which the plan's own
// check normally keeps out of reach.
Error needs_macos(const std::string& feature, MacosVersion needed,
                  std::optional<MacosVersion> running = std::nullopt);

// Save/restore's own requirement (arm64 and macos_for_save_restore): "save/restore needs macOS
// 14 or later on an Apple silicon (arm64) Mac", followed by "; this host runs macOS <x.y> on
// <arch>" when `host` is known.
Error save_restore_unsupported(const std::optional<HostFacts>& host = std::nullopt);

// The SDK version that __MAC_OS_X_VERSION_MAX_ALLOWED encodes: 140200 -> 14.2, 260000 -> 26.0,
// and the old four-digit form 1090 -> 10.9. The .mm files pass the macro in (sdk_capabilities.h).
MacosVersion sdk_version_from_max_allowed(long max_allowed) noexcept;

// The `unsupported` error for a feature whose API this build's SDK does not declare, e.g.
// "vmnet networks need macOS 26 and a macOS 26 SDK; this build used SDK 14.2". `subject_needs`
// carries the subject and its verb ("vmnet networks need", "nested virtualization needs").
// The plan returns it before any framework call; the .mm's compile-time #else returns the same.
Error sdk_too_old(const std::string& subject_needs, MacosVersion needed, MacosVersion sdk);

// nullopt when host.sdk is `needed` or later, sdk_too_old() otherwise.
std::optional<Error> require_sdk(const HostFacts& host, MacosVersion needed,
                                 const std::string& subject_needs);

}  // namespace vmm::vz
