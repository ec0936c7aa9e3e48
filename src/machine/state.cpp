// vmm: names of the lifecycle and backend enums, as logs, messages and manifests spell them.
#include "vmm/state.hpp"
#include "vmm/virtual_machine.hpp"

namespace vmm {

std::string_view to_string(VmState state) noexcept {
  switch (state) {
    case VmState::stopped: return "stopped";
    case VmState::starting: return "starting";
    case VmState::running: return "running";
    case VmState::pausing: return "pausing";
    case VmState::paused: return "paused";
    case VmState::resuming: return "resuming";
    case VmState::stopping: return "stopping";
    case VmState::saving: return "saving";
    case VmState::restoring: return "restoring";
    case VmState::error: return "error";
  }
  // Only reachable with a value cast from outside the enum.
  return "unknown";
}

std::string_view to_string(Backend backend) noexcept {
  switch (backend) {
    case Backend::automatic: return "automatic";
    case Backend::virtualization_framework: return "virtualization_framework";
    case Backend::qemu: return "qemu";
  }
  return "unknown";
}

std::string_view to_string(Acceleration acceleration) noexcept {
  switch (acceleration) {
    case Acceleration::automatic: return "automatic";
    case Acceleration::kvm: return "kvm";
    case Acceleration::tcg: return "tcg";
  }
  return "unknown";
}

}  // namespace vmm
