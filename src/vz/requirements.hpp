// vmm vz: the first macOS version of each feature the plan can ask for (see
// /work/shared/reference/virtualization-framework.md and docs/macos.md).
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
inline constexpr MacosVersion macos_for_save_restore{14, 0};
inline constexpr MacosVersion macos_for_nested{15, 0};
inline constexpr MacosVersion macos_for_asif{26, 0};
inline constexpr MacosVersion macos_for_vmnet{26, 0};

// VZFileHandleNetworkDeviceAttachment's MTU before macOS 13 made it settable.
inline constexpr std::uint32_t default_mtu = 1500;

// nullopt when the host runs `needed` or later; otherwise an `unsupported` error
// "<feature>: needs macOS <needed> or later (this host runs macOS <x.y>)".
std::optional<Error> require_macos(const HostFacts& host, MacosVersion needed,
                                   const std::string& feature);

}  // namespace vmm::vz
