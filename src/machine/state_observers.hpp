// vmm internal: the registry of on_state_change observers.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "vmm/virtual_machine.hpp"

namespace vmm::detail {

// No lock is held while an observer runs, so an observer may add or remove observers (itself
// included) and call into the VM. A removed observer is never called again once remove()
// returns, except for a call that had already begun on another thread (it finishes).
class StateObservers : public std::enable_shared_from_this<StateObservers> {
 public:
  using Observer = std::function<void(const StateChange&)>;

  // The Subscription refers to this registry weakly: resetting it after the VM is gone is fine.
  Subscription add(Observer observer);
  void remove(std::uint64_t id);
  // Drops every observer (the VM is being destroyed).
  void clear();

  // Whether no observer is registered: then a transition has no one to notify, and the core
  // does not wake the callback thread for it.
  bool empty();

  // Calls the observers registered when the call began, in registration order.
  void notify(const StateChange& change);

 private:
  std::mutex mutex_;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, std::shared_ptr<Observer>> observers_;
};

}  // namespace vmm::detail
