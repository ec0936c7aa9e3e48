#include "vz/vz_state.hpp"

namespace vmm::vz {

std::optional<VmState> vm_state_from_vz(long state) noexcept {
  switch (state) {
    case 0: return VmState::stopped;
    case 1: return VmState::running;
    case 2: return VmState::paused;
    case 3: return VmState::error;
    case 4: return VmState::starting;
    case 5: return VmState::pausing;
    case 6: return VmState::resuming;
    case 7: return VmState::stopping;
    case 8: return VmState::saving;
    case 9: return VmState::restoring;
    default: return std::nullopt;
  }
}

}  // namespace vmm::vz
