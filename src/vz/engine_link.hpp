// vmm vz: how the VZ engine hands results and events to the core, kept portable so its rules
// are tested everywhere: every delivery runs through one executor (a serial dispatch queue on
// macOS, so user code never runs on the VM's queue), each Done fires at most once, nothing is
// delivered after close() (the engine's destructor), and descriptors that are never delivered
// are closed rather than leaked.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>

#include "machine/engine.hpp"
#include "vmm/state.hpp"

namespace vmm::vz {

class EngineLink : public std::enable_shared_from_this<EngineLink> {
 public:
  using Task = std::function<void()>;
  using Executor = std::function<void(Task)>;
  using FdDone = std::function<void(Result<FileDescriptor>)>;

  static std::shared_ptr<EngineLink> create(Executor executor);

  void set_listener(std::weak_ptr<detail::EngineListener> listener);

  // A Done for one operation: the first result is posted to the executor, later ones are
  // ignored (VZ calls each completion handler once; this makes it a rule, not a hope).
  detail::Engine::Done completion(detail::Engine::Done done);
  // Posts a descriptor (owned from here on) or an error to `done`; closed if never delivered.
  void deliver_fd(const FdDone& done, Result<int> fd);
  // Posts an accepted descriptor to a vsock listener; closed if never delivered.
  void deliver_connection(const std::function<void(FileDescriptor)>& on_connection, int fd);

  void guest_stopped();
  void engine_failed(Error reason);

  // The VZ state as last observed (KVO), for code that must not touch the VM off its queue.
  void set_observed_state(VmState state) { observed_state_.store(state); }
  VmState observed_state() const { return observed_state_.load(); }

  // From now on nothing is delivered; tasks already posted are dropped when they run.
  void close() { closed_.store(true); }
  bool closed() const { return closed_.load(); }

 private:
  explicit EngineLink(Executor executor) : executor_(std::move(executor)) {}
  void post(Task task);

  Executor executor_;
  std::mutex mutex_;
  std::weak_ptr<detail::EngineListener> listener_;
  std::atomic<bool> closed_{false};
  std::atomic<VmState> observed_state_{VmState::stopped};
};

}  // namespace vmm::vz
