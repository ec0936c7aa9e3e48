// vmm internal: which operation is allowed in which state, and where it leads. Plain data so
// that the state machine's rules live in one table and are tested on their own.
#pragma once

#include <string>
#include <string_view>

#include "vmm/state.hpp"

namespace vmm::detail {

enum class Operation { start, pause, resume, stop, request_stop, save, restore };
// What a save writes: a full bundle, or a template (RAM file + device state; the save
// operation's rules apply to both).
enum class SaveKind { full, template_bundle };

std::string_view to_string(Operation operation) noexcept;

struct OperationRule {
  // The state the VM is in while the engine works; equal to the starting state for
  // request_stop, which has no transitional state (it only sends a request to the guest).
  VmState during;
  VmState on_success;
  VmState on_failure;
};

// Follows Virtualization.framework on every backend:
//   start         stopped|error -> starting  -> running,  failure: error
//   pause         running       -> pausing   -> paused,   failure: error
//   resume        paused        -> resuming  -> running,  failure: error
//   stop          running|paused-> stopping  -> stopped,  failure: error
//   request_stop  running       -> running   -> running,  failure: running (the VM is fine)
//   save          paused        -> saving    -> paused,   failure: paused (the VM is intact)
//   restore       stopped|error -> restoring -> paused,   failure: stopped
// While any operation is in flight every other one is refused, hard stop included: the
// transitional states are not stoppable in VZ either, and destroying the VirtualMachine is the
// way out of an operation that hangs.
bool allowed_from(Operation operation, VmState state) noexcept;
OperationRule rule_for(Operation operation, VmState from) noexcept;

// "pause: not allowed while the VM is stopped"
std::string not_allowed_message(Operation operation, VmState state);
// "pause: not allowed while start is in flight (the VM is starting)"
std::string busy_message(Operation operation, Operation in_flight, VmState state);

}  // namespace vmm::detail
