// vmm internal: the rules for a memory balloon target (VirtualMachine::set_memory_target), one
// place for every backend: at most the configured memory (a balloon only takes memory back), at
// least VirtualMachine::min_memory_target (below it a Linux guest is likely to die of OOM before
// the caller notices), and whole MiB where the backend needs it (VZ's
// targetVirtualMachineMemorySize must be a multiple of 1 MiB).
#pragma once

#include "vmm/error.hpp"
#include "vmm/size.hpp"

namespace vmm::detail {

Result<void> check_memory_target(Size configured, Size target, bool whole_mib_only);

}  // namespace vmm::detail
