// vmm internal (Virtualization.framework backend): CreateOptions::isolation on VZ.
//
// The framework runs each VM inside its own XPC service (com.apple.Virtualization.VirtualMachine),
// sandboxed by macOS and not under vmm's control: no option of vmm/isolation.hpp has a VZ
// counterpart, so each one that is set is `unsupported`, with the reason. Sandbox `automatic`
// asks for nothing and passes.
#pragma once

#include "vmm/error.hpp"
#include "vmm/isolation.hpp"

namespace vmm::vz {

Result<void> check_isolation(const Isolation& isolation);

}  // namespace vmm::vz
