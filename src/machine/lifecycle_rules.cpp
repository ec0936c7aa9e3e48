// vmm internal: the lifecycle transition table.
#include "machine/lifecycle_rules.hpp"

namespace vmm::detail {

std::string_view to_string(Operation operation) noexcept {
  switch (operation) {
    case Operation::start: return "start";
    case Operation::pause: return "pause";
    case Operation::resume: return "resume";
    case Operation::stop: return "stop";
    case Operation::request_stop: return "request_stop";
    case Operation::save: return "save";
    case Operation::restore: return "restore";
  }
  return "unknown";
}

bool allowed_from(Operation operation, VmState state) noexcept {
  switch (operation) {
    case Operation::start:
    case Operation::restore:
      return state == VmState::stopped || state == VmState::error;
    case Operation::pause:
    case Operation::request_stop:
      return state == VmState::running;
    case Operation::resume:
    case Operation::save:
      return state == VmState::paused;
    case Operation::stop:
      return state == VmState::running || state == VmState::paused;
  }
  return false;
}

OperationRule rule_for(Operation operation, VmState from) noexcept {
  switch (operation) {
    case Operation::start:
      return {VmState::starting, VmState::running, VmState::error};
    case Operation::pause:
      return {VmState::pausing, VmState::paused, VmState::error};
    case Operation::resume:
      return {VmState::resuming, VmState::running, VmState::error};
    case Operation::stop:
      return {VmState::stopping, VmState::stopped, VmState::error};
    case Operation::request_stop:
      return {from, from, from};
    case Operation::save:
      return {VmState::saving, VmState::paused, VmState::paused};
    case Operation::restore:
      return {VmState::restoring, VmState::paused, VmState::stopped};
  }
  return {from, from, from};
}

std::string not_allowed_message(Operation operation, VmState state) {
  return std::string(to_string(operation)) + ": not allowed while the VM is " +
         std::string(to_string(state));
}

std::string busy_message(Operation operation, Operation in_flight, VmState state) {
  return std::string(to_string(operation)) + ": not allowed while " +
         std::string(to_string(in_flight)) + " is in flight (the VM is " +
         std::string(to_string(state)) + ")";
}

}  // namespace vmm::detail
