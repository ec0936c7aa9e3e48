// vmm vz: how the VZ engine reports results and events to the core, kept portable so its rules
// are tested everywhere. Calls go straight through on the thread that reports (the VM's queue on
// macOS): there is no delivery queue of its own, because the core already makes the one hand-off
// to the VM's callback thread (machine/virtual_machine_impl.hpp: every Done, event, vsock result
// and connection the core hands an engine only posts there, so no user code runs on the VM's
// queue). What the link adds: each Done fires at most once, nothing is reported after close()
// (the engine's destructor), and a descriptor that is not handed on is closed, never leaked.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>

#include "machine/engine.hpp"

namespace vmm::vz {

class EngineLink : public std::enable_shared_from_this<EngineLink> {
 public:
  using FdDone = std::function<void(Result<FileDescriptor>)>;

  static std::shared_ptr<EngineLink> create();

  void set_listener(std::weak_ptr<detail::EngineListener> listener);

  // A Done for one operation: the first result is passed on, later ones are ignored (VZ calls
  // each completion handler once; this makes it a rule, not a hope).
  detail::Engine::Done completion(detail::Engine::Done done);
  // Passes a descriptor (owned from here on) or an error to `done`; closed if not passed on.
  void deliver_fd(const FdDone& done, Result<int> fd);
  // Passes an accepted descriptor to a vsock listener; closed if not passed on.
  void deliver_connection(const std::function<void(FileDescriptor)>& on_connection, int fd);

  // The run ended: `on_run_ended` (set_on_run_ended) first, then the listener.
  void guest_stopped();
  void engine_failed(Error reason);

  // What the engine itself must undo when the run ends without a stop() (the NAT forwards:
  // nat_forwarding.hpp). Called on the reporting thread, also after close(): undoing is always
  // safe, and the engine's destructor has undone it already then.
  void set_on_run_ended(std::function<void()> on_run_ended);

  // From now on nothing is reported.
  void close() { closed_.store(true); }
  bool closed() const { return closed_.load(); }

 private:
  EngineLink() = default;
  std::weak_ptr<detail::EngineListener> listener() const;
  void run_ended();

  mutable std::mutex mutex_;
  std::weak_ptr<detail::EngineListener> listener_;
  std::function<void()> on_run_ended_;
  std::atomic<bool> closed_{false};
};

}  // namespace vmm::vz
