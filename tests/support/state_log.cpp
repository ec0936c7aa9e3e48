// Test support: see state_log.hpp.
#include "support/state_log.hpp"

namespace vmm::testing {

std::function<void(const StateChange&)> StateLog::observer() {
  return [this](const StateChange& change) {
    std::lock_guard lock(mutex_);  // the test reads changes_ from its own thread
    changes_.push_back(change);
    changed_.notify_all();
  };
}

bool StateLog::wait_for(VmState state, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] {
    for (const auto& change : changes_)
      if (change.to == state) return true;
    return false;
  });
}

bool StateLog::wait_for_count(std::size_t count) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, support::kTimeout, [&] { return changes_.size() >= count; });
}

std::vector<StateChange> StateLog::changes() {
  std::lock_guard lock(mutex_);
  return changes_;
}

std::vector<VmState> StateLog::targets() {
  std::lock_guard lock(mutex_);
  std::vector<VmState> out;
  for (const auto& change : changes_) out.push_back(change.to);
  return out;
}

}  // namespace vmm::testing
