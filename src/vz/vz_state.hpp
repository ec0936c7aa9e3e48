// vmm vz: VZVirtualMachineState values -> vmm::VmState, portable so the table is tested.
#pragma once

#include <optional>

#include "vmm/state.hpp"

namespace vmm::vz {

// stopped 0, running 1, paused 2, error 3, starting 4, pausing 5, resuming 6 (macOS 11),
// stopping 7 (12), saving 8, restoring 9 (14); nullopt for a value a newer macOS may add.
std::optional<VmState> vm_state_from_vz(long state) noexcept;

}  // namespace vmm::vz
