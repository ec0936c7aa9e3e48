#include "vz/engine_link.hpp"

#include <utility>

namespace vmm::vz {

std::shared_ptr<EngineLink> EngineLink::create(Executor executor) {
  return std::shared_ptr<EngineLink>(new EngineLink(std::move(executor)));
}

void EngineLink::set_listener(std::weak_ptr<detail::EngineListener> listener) {
  std::lock_guard lock(mutex_);
  listener_ = std::move(listener);
}

void EngineLink::post(Task task) {
  if (closed()) return;
  // The task holds the link, so a delivery racing the engine's destruction still sees close().
  executor_([self = shared_from_this(), task = std::move(task)] {
    if (!self->closed()) task();
  });
}

detail::Engine::Done EngineLink::completion(detail::Engine::Done done) {
  auto fired = std::make_shared<std::atomic<bool>>(false);
  return [self = shared_from_this(), fired, done = std::move(done)](Result<void> result) {
    if (fired->exchange(true)) return;
    self->post([done, result = std::move(result)] { done(result); });
  };
}

void EngineLink::deliver_fd(const FdDone& done, Result<int> fd) {
  if (!fd) {
    post([done, error = fd.error()] { done(error); });
    return;
  }
  // Shared so that the task stays copyable; a task that is dropped closes the descriptor.
  auto owned = std::make_shared<FileDescriptor>(*fd);
  post([done, owned] { done(std::move(*owned)); });
}

void EngineLink::deliver_connection(const std::function<void(FileDescriptor)>& on_connection,
                                    int fd) {
  auto owned = std::make_shared<FileDescriptor>(fd);
  post([on_connection, owned] { on_connection(std::move(*owned)); });
}

void EngineLink::guest_stopped() {
  std::weak_ptr<detail::EngineListener> listener;
  {
    std::lock_guard lock(mutex_);
    listener = listener_;
  }
  // The listener is called on the executor, never with this link's lock held.
  post([listener] {
    if (auto alive = listener.lock()) alive->on_guest_stopped();
  });
}

void EngineLink::engine_failed(Error reason) {
  std::weak_ptr<detail::EngineListener> listener;
  {
    std::lock_guard lock(mutex_);
    listener = listener_;
  }
  post([listener, reason = std::move(reason)] {
    if (auto alive = listener.lock()) alive->on_engine_failed(reason);
  });
}

}  // namespace vmm::vz
