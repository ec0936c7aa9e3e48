// vmm: the lifecycle states of a VirtualMachine.
#pragma once

#include <string_view>

namespace vmm {

enum class VmState {
  stopped,
  starting,
  running,
  pausing,
  paused,
  resuming,
  stopping,
  saving,
  restoring,
  error,
};

std::string_view to_string(VmState state) noexcept;

}  // namespace vmm
