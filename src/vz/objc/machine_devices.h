// vmm vz (Objective-C++ only): the run-time devices of a VZVirtualMachine (vsock, balloon),
// found on the machine and driven on its queue. Straight-line: the rules are in portable C++
// (machine/memory_target.hpp decides which balloon targets are valid).
#pragma once

#import <Virtualization/Virtualization.h>

#include <cstdint>
#include <memory>

#include "machine/engine.hpp"

namespace vmm::vz {

// The machine's vsock device, or nil. On the VM's queue.
API_AVAILABLE(macos(13.0))
VZVirtioSocketDevice* _Nullable socket_device(VZVirtualMachine* machine);

// Sets VZVirtioTraditionalMemoryBalloonDevice.targetVirtualMachineMemorySize on the queue.
API_AVAILABLE(macos(13.0))
void set_balloon_target_on_queue(dispatch_queue_t queue, VZVirtualMachine* machine,
                                 std::uint64_t bytes, detail::Engine::Done finish);

// Reads the balloon's target into `info` on the queue (VZ reports no actual size), then
// calls `finish`.
API_AVAILABLE(macos(13.0))
void read_balloon_on_queue(dispatch_queue_t queue, VZVirtualMachine* machine,
                           std::shared_ptr<Result<MemoryBalloonInfo>> info,
                           detail::Engine::Done finish);

}  // namespace vmm::vz
