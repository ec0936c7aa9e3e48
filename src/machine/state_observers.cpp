// vmm internal: state observers.
#include "machine/state_observers.hpp"

#include <utility>

namespace vmm::detail {

Subscription StateObservers::add(Observer observer) {
  std::uint64_t id = 0;
  {
    std::lock_guard lock(mutex_);
    id = next_id_++;
    observers_.emplace(id, std::make_shared<Observer>(std::move(observer)));
  }
  return Subscription([weak = weak_from_this(), id] {
    if (auto self = weak.lock()) self->remove(id);
  });
}

void StateObservers::remove(std::uint64_t id) {
  std::shared_ptr<Observer> removed;
  {
    std::lock_guard lock(mutex_);
    auto it = observers_.find(id);
    if (it == observers_.end()) return;
    removed = std::move(it->second);
    observers_.erase(it);
  }
  // `removed` dies here, outside the lock: its captures may own anything, even the VM.
}

void StateObservers::clear() {
  std::map<std::uint64_t, std::shared_ptr<Observer>> removed;
  {
    std::lock_guard lock(mutex_);
    removed.swap(observers_);
  }
}

bool StateObservers::empty() {
  std::lock_guard lock(mutex_);
  return observers_.empty();
}

void StateObservers::notify(const StateChange& change) {
  std::uint64_t last = 0;
  {
    std::lock_guard lock(mutex_);
    last = next_id_ - 1;  // observers added during this notification wait for the next one
  }
  std::uint64_t cursor = 0;
  for (;;) {
    std::shared_ptr<Observer> observer;
    {
      // Looked up afresh for each observer so that one removed by an earlier observer's
      // callback is skipped.
      std::lock_guard lock(mutex_);
      auto it = observers_.upper_bound(cursor);
      if (it == observers_.end() || it->first > last) return;
      cursor = it->first;
      observer = it->second;
    }
    (*observer)(change);
  }
}

}  // namespace vmm::detail
