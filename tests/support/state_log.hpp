// Test support: records the state changes an observer sees, to wait for one and to check what
// observers were told. Used by the machine, snapshot and integration tests.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <vector>

#include "support/wait.hpp"
#include "vmm/virtual_machine.hpp"

namespace vmm::testing {

class StateLog {
 public:
  // The observer to register with on_state_change(); it must not outlive the log.
  std::function<void(const StateChange&)> observer();
  // A change *to* `state` was seen within `timeout` (integration tests pass longer ones).
  bool wait_for(VmState state, std::chrono::milliseconds timeout = support::kTimeout);
  bool wait_for_count(std::size_t count);
  std::vector<StateChange> changes();
  std::vector<VmState> targets();

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<StateChange> changes_;
};

}  // namespace vmm::testing
