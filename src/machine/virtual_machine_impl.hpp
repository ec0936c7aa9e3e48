// vmm internal: the state machine behind VirtualMachine, and the seam tests use to run it over
// a fake Engine.
//
// Threads and locks:
//  - `mutex_` guards the state, the one in-flight operation and `closed_`. It is never held
//    while calling the engine, an observer, a completion, or destroying anything a user made.
//  - Observers and completions of accepted operations run on the VM's CallbackThread, posted
//    while `mutex_` is held, so they come out in transition order: the observers see
//    `starting -> running` before start()'s completion runs. So do connect_vsock results,
//    listen_vsock connections and console lines: the core wraps each user callback it hands an
//    engine so that the engine's call only posts to that thread (backends never call user code).
//  - Refusals (invalid_state, a failed pre-check) complete at once on the caller's thread,
//    outside the lock: nothing changed, so there is nothing to order them with.
//  - Engine results and events arrive on engine threads through a weak reference, so they
//    race destruction safely.
// Exactly once: an operation's Completion lives only in `in_flight_`; whoever takes it out
// under the lock (the engine's result, an engine event, or destruction) completes it, and an
// engine result for an operation that is no longer in flight is dropped (matched by id).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "machine/callback_thread.hpp"
#include "machine/engine.hpp"
#include "machine/guest_clock.hpp"
#include "machine/lifecycle_rules.hpp"
#include "machine/state_observers.hpp"
#include "vmm/virtual_machine.hpp"
#include "runtime/work_directory.hpp"

namespace vmm::detail {
class StagingDirectory;  // snapshot/staging.hpp
}

namespace vmm {

struct VirtualMachine::Impl final : detail::EngineListener,
                                    std::enable_shared_from_this<VirtualMachine::Impl> {
  // `callbacks`: the VM's callback thread, made before the engine when the engine needs it (for
  // console lines, see VirtualMachine::create); null: a new one.
  Impl(std::unique_ptr<detail::Engine> engine, Backend backend, detail::WorkDirectory work_dir,
       std::shared_ptr<detail::CallbackThread> callbacks = nullptr);
  ~Impl() override;

  // Wraps an Impl (made with make_shared) in the public object and registers as the engine's
  // listener.
  static std::shared_ptr<VirtualMachine> wrap(std::shared_ptr<Impl> impl);

  VmState state() const;
  std::optional<Error> last_error() const;
  const VmConfig& config() const { return config_; }
  Backend backend() const { return backend_; }
  Acceleration acceleration() const { return acceleration_; }
  Subscription on_state_change(std::function<void(const StateChange&)> observer);
  std::optional<std::filesystem::path> log_path() const;
  // The engine's figures plus the time since the last transition.
  VmMetrics metrics() const;

  // How an accepted operation's completion reaches its caller.
  //  - callback_thread: posted to the callback thread, after the observers of its transition
  //    (the callback forms: user code).
  //  - direct: the future forms. Fulfilling a promise runs no user code, so when no observer
  //    is registered it is done on the thread that decided the outcome, under mutex_, right
  //    after the state changed, and the waiting caller wakes one thread hand-off sooner. With an
  //    observer it is posted like a callback, so that a future is never ready before the
  //    notifications of its own transitions.
  enum class Delivery { callback_thread, direct };

  // start, pause, resume, stop, request_stop: `call` is the matching Engine member.
  using EngineCall = void (detail::Engine::*)(detail::Engine::Done);
  void run(detail::Operation operation, EngineCall call, Completion done,
           Delivery delivery = Delivery::callback_thread);
  void save(std::filesystem::path bundle, Completion done,
            detail::SaveKind kind = detail::SaveKind::full,
            Delivery delivery = Delivery::callback_thread);
  void restore(std::filesystem::path bundle, Completion done,
               Delivery delivery = Delivery::callback_thread);
  // VmPool: a stopped VM prepares its hypervisor for a clone of the template whose RAM file is
  // `memory_file` (Engine::prepare_clone); the state stays stopped. `done` runs on an engine
  // thread, or at once with invalid_state when the VM is not stopped and idle.
  void prepare_clone(const std::filesystem::path& memory_file, detail::Engine::Done done);

  void connect_vsock(std::uint32_t port, std::function<void(Result<FileDescriptor>)> done);
  Result<Subscription> listen_vsock(std::uint32_t port,
                                    std::function<void(FileDescriptor)> on_connection);
  // console_ports.cpp
  Result<FileDescriptor> console_port(std::string_view name);
  // console_ports.cpp too: the engine's answer, while the VM exists.
  Result<std::vector<GuestAddress>> guest_addresses() const;
  // balloon.cpp
  void set_memory_target(Size target, Completion done);
  void memory_balloon(std::function<void(Result<MemoryBalloonInfo>)> done);
  // guest_time.cpp
  void sync_guest_time(Completion done);

  // Called once by ~VirtualMachine: destroys the engine, completes a pending operation with
  // `cancelled`, drains and ends the callback thread, removes an owned working directory.
  void shut_down();

  // detail::EngineListener
  void on_guest_stopped() override;
  void on_engine_failed(Error reason) override;

 private:
  struct InFlight {
    InFlight(std::uint64_t id_, detail::Operation operation_, Completion done_,
             Delivery delivery_, VmState before_)
        : id(id_),
          operation(operation_),
          done(std::move(done_)),
          delivery(delivery_),
          before(before_) {}
    std::uint64_t id;
    detail::Operation operation;
    Completion done;
    Delivery delivery;
    VmState before;  // the state the operation started from
    bool entered = false;       // the transitional state is set, the engine was called
    bool following_up = false;  // the engine answered; a follow-up runs, see begin_follow_up()
  };

  // Claims the operation slot, or completes `done` with the refusal and returns nothing.
  std::optional<std::uint64_t> reserve(detail::Operation operation, Completion& done,
                                       Delivery delivery);
  // balloon.cpp: the engine when the VM has a balloon and is running or paused, else nullptr
  // and the refusal.
  detail::Engine* balloon_engine(const char* what, std::optional<Error>& refusal);
  // A pre-check failed before the state changed: releases the slot and completes on the
  // caller's thread (unless an event or destruction already completed the operation).
  void abandon(std::uint64_t id, Error error);
  // Sets the transitional state; returns the engine to call, or null when the operation was
  // completed meanwhile by an event (nothing more to do).
  detail::Engine* enter(std::uint64_t id);
  // The engine's Done for operation `id`, as a callable that is safe after destruction.
  detail::Engine::Done result_handler(std::uint64_t id);
  void finish(std::uint64_t id, Result<void> result);
  // A save's engine answered (engine thread); `staging` holds what it wrote.
  void save_written(std::uint64_t id, const std::shared_ptr<detail::StagingDirectory>& staging,
                    detail::SaveKind kind, Result<void> result);
  // Blocking work that must end before operation `id` completes (a save's bundle commit: writes,
  // fsyncs, renames), started after its engine answered successfully. It runs on
  // `follow_up_thread_`, a short-lived thread per follow-up, and not on the engine's thread (a
  // backend's control thread must stay free: QEMU's worker also reads QMP events, VZ's queue
  // runs the VM) nor on the callback thread (seconds of fsync would hold back every observer,
  // console line and vsock connection of the VM). While it runs, engine events leave the
  // operation alone and destruction waits for it, so its completion says what really happened.
  // False (and nothing started) when the operation is no longer this one's to finish.
  using FollowUp = std::function<Result<void>()>;
  bool begin_follow_up(std::uint64_t id, FollowUp step);
  void follow_up_done(std::uint64_t id, Result<void> result);

  // guest_time.cpp: opens the guest agent's console port of the current run (on the worker).
  detail::GuestClock::OpenChannel guest_agent_channel();
  // guest_time.cpp, under mutex_: after `operation` succeeded; a resume after a restore queues
  // the automatic clock sync.
  void guest_clock_after_locked(detail::Operation operation);

  // Under mutex_:
  void finish_locked(Result<void> result);
  void transition_locked(VmState to, std::optional<Error> reason);
  void complete_locked(Completion done, Result<void> result, Delivery delivery);
  void complete_in_flight_locked(Result<void> result);

  const Backend backend_;
  const std::string engine_name_;
  const Acceleration acceleration_;
  const bool serial_port_;  // Engine::has_serial_port(), recorded in and checked against manifests
  const VmConfig config_;
  std::unique_ptr<detail::Engine> engine_;  // reset only by shut_down()
  detail::WorkDirectory work_dir_;
  std::shared_ptr<detail::StateObservers> observers_ = std::make_shared<detail::StateObservers>();
  std::shared_ptr<detail::CallbackThread> callbacks_;

  mutable std::mutex mutex_;
  VmState state_ = VmState::stopped;
  std::chrono::steady_clock::time_point state_since_ = std::chrono::steady_clock::now();
  std::optional<Error> last_error_;
  std::optional<InFlight> in_flight_;
  std::uint64_t next_id_ = 0;
  bool closed_ = false;
  // Started under mutex_ by begin_follow_up(), joined by shut_down() (see begin_follow_up).
  std::thread follow_up_thread_;
  // The guest agent's clock worker (guest_clock.hpp), stopped by shut_down(); and whether the
  // next successful resume continues a restore (under mutex_).
  detail::GuestClock guest_clock_;
  bool clock_after_resume_ = false;
};

namespace detail {

// VirtualMachine::Impl is private to the public header; the library names it through here.
struct VirtualMachineAccess {
  using Impl = VirtualMachine::Impl;
  static Impl& impl(VirtualMachine& vm) { return *vm.impl_; }
};

// The test seam: a VirtualMachine over any Engine. `work_dir` is removed with the VM if owned.
std::shared_ptr<VirtualMachine> make_virtual_machine(
    std::unique_ptr<Engine> engine, Backend backend, WorkDirectory work_dir = {},
    std::shared_ptr<CallbackThread> callbacks = nullptr);

}  // namespace detail
}  // namespace vmm
