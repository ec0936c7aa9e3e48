#include "vz/engine_link.hpp"

#include <utility>

namespace vmm::vz {

std::shared_ptr<EngineLink> EngineLink::create() {
  return std::shared_ptr<EngineLink>(new EngineLink());
}

void EngineLink::set_listener(std::weak_ptr<detail::EngineListener> listener) {
  std::lock_guard lock(mutex_);
  listener_ = std::move(listener);
}

std::weak_ptr<detail::EngineListener> EngineLink::listener() const {
  std::lock_guard lock(mutex_);
  return listener_;
}

detail::Engine::Done EngineLink::completion(detail::Engine::Done done) {
  auto fired = std::make_shared<std::atomic<bool>>(false);
  return [self = shared_from_this(), fired, done = std::move(done)](Result<void> result) {
    if (fired->exchange(true) || self->closed()) return;
    done(std::move(result));
  };
}

void EngineLink::deliver_fd(const FdDone& done, Result<int> fd) {
  if (!fd) {
    if (!closed()) done(fd.error());
    return;
  }
  FileDescriptor owned(*fd);  // closed here unless passed on
  if (!closed()) done(std::move(owned));
}

void EngineLink::deliver_connection(const std::function<void(FileDescriptor)>& on_connection,
                                    int fd) {
  FileDescriptor owned(fd);
  if (!closed()) on_connection(std::move(owned));
}

void EngineLink::set_on_run_ended(std::function<void()> on_run_ended) {
  std::lock_guard lock(mutex_);
  on_run_ended_ = std::move(on_run_ended);
}

void EngineLink::run_ended() {
  std::function<void()> on_run_ended;
  {
    std::lock_guard lock(mutex_);
    on_run_ended = on_run_ended_;
  }
  if (on_run_ended) on_run_ended();
}

// The listener and the hook are called without this link's lock held.
void EngineLink::guest_stopped() {
  run_ended();
  if (closed()) return;
  if (auto alive = listener().lock()) alive->on_guest_stopped();
}

void EngineLink::engine_failed(Error reason) {
  run_ended();
  if (closed()) return;
  if (auto alive = listener().lock()) alive->on_engine_failed(std::move(reason));
}

}  // namespace vmm::vz
