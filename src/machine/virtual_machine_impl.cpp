// vmm internal: the lifecycle state machine (see virtual_machine_impl.hpp for the threading);
// save() and restore() live in src/snapshot/save_restore.cpp.
#include "machine/virtual_machine_impl.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <exception>
#include <string>
#include <system_error>
#include <utility>

#include "config/config_facts.hpp"
#include "runtime/posix.hpp"
#include "vmm/logging.hpp"

namespace vmm {

using detail::Operation;

namespace {

std::string op_name(Operation operation) { return std::string(detail::to_string(operation)); }

// Prefixes an error from a helper with the operation, keeping its code.
Error in_operation(Operation operation, const Error& error) {
  return Error(error.code(), op_name(operation) + ": " + error.message());
}

}  // namespace

VirtualMachine::Impl::Impl(std::unique_ptr<detail::Engine> engine, Backend backend,
                           detail::WorkDirectory work_dir,
                           std::shared_ptr<detail::CallbackThread> callbacks)
    : backend_(backend),
      engine_name_(engine->backend_name()),
      acceleration_(engine->acceleration()),
      serial_port_(engine->has_serial_port()),
      config_(engine->config()),
      engine_(std::move(engine)),
      work_dir_(std::move(work_dir)),
      callbacks_(callbacks ? std::move(callbacks) : std::make_shared<detail::CallbackThread>()) {}

VirtualMachine::Impl::~Impl() {
  shut_down();
  detail::join_or_detach(follow_up_thread_);  // already joined unless shut_down ran elsewhere
}

std::shared_ptr<VirtualMachine> VirtualMachine::Impl::wrap(std::shared_ptr<Impl> impl) {
  impl->engine_->set_listener(impl);
  logger()->debug("vmm: {} VM created", to_string(impl->backend_));
  return std::shared_ptr<VirtualMachine>(new VirtualMachine(std::move(impl)));
}

VmState VirtualMachine::Impl::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

std::optional<Error> VirtualMachine::Impl::last_error() const {
  std::lock_guard lock(mutex_);
  return last_error_;
}

Subscription VirtualMachine::Impl::on_state_change(
    std::function<void(const StateChange&)> observer) {
  return observers_->add(std::move(observer));
}

// ---- the operation slot ------------------------------------------------------------------------

std::optional<std::uint64_t> VirtualMachine::Impl::reserve(Operation operation,
                                                           Completion& done, Delivery delivery) {
  std::optional<Error> refusal;
  {
    std::lock_guard lock(mutex_);
    if (closed_) {
      refusal.emplace(Errc::cancelled, op_name(operation) + ": the VM is being destroyed");
    } else if (in_flight_) {
      refusal.emplace(Errc::invalid_state,
                      detail::busy_message(operation, in_flight_->operation, state_));
    } else if (!detail::allowed_from(operation, state_)) {
      refusal.emplace(Errc::invalid_state, detail::not_allowed_message(operation, state_));
    } else {
      const std::uint64_t id = ++next_id_;
      in_flight_.emplace(id, operation, std::move(done), delivery, state_);
      return id;
    }
  }
  logger()->debug("vmm: {}", refusal->message());
  if (done) done(Result<void>(std::move(*refusal)));
  return std::nullopt;
}

void VirtualMachine::Impl::abandon(std::uint64_t id, Error error) {
  Completion done;
  {
    std::lock_guard lock(mutex_);
    if (!in_flight_ || in_flight_->id != id) return;  // an event already completed it
    done = std::move(in_flight_->done);
    in_flight_.reset();
  }
  logger()->debug("vmm: {}", error.message());
  if (done) done(Result<void>(std::move(error)));
}

detail::Engine* VirtualMachine::Impl::enter(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  if (!in_flight_ || in_flight_->id != id) return nullptr;
  in_flight_->entered = true;
  transition_locked(detail::rule_for(in_flight_->operation, state_).during, std::nullopt);
  return engine_.get();
}

detail::Engine::Done VirtualMachine::Impl::result_handler(std::uint64_t id) {
  // Weak: an engine result racing the VM's destruction must find nothing rather than a
  // dangling pointer, and an engine holding the handler must not keep the VM alive.
  return [weak = weak_from_this(), id](Result<void> result) {
    if (auto self = weak.lock()) self->finish(id, std::move(result));
  };
}

void VirtualMachine::Impl::finish(std::uint64_t id, Result<void> result) {
  std::lock_guard lock(mutex_);
  if (closed_ || !in_flight_ || in_flight_->id != id || in_flight_->following_up) {
    // Completed already by an engine event or by destruction: exactly once means drop it.
    logger()->debug("vmm: dropped a late engine result for operation {}", id);
    return;
  }
  finish_locked(std::move(result));
}

void VirtualMachine::Impl::finish_locked(Result<void> result) {
  InFlight operation = std::move(*in_flight_);
  in_flight_.reset();
  const auto rule = detail::rule_for(operation.operation, operation.before);
  // Only the operation's own transitional state is replaced: if an engine event moved the VM
  // on meanwhile (a follow-up outlives events), that state stands.
  if (state_ == rule.during) {
    if (result) {
      transition_locked(rule.on_success, std::nullopt);
      guest_clock_after_locked(operation.operation);
    } else {
      transition_locked(rule.on_failure, rule.on_failure == VmState::error
                                             ? std::optional<Error>(result.error())
                                             : std::nullopt);
    }
  }
  complete_locked(std::move(operation.done), std::move(result), operation.delivery);
}

void VirtualMachine::Impl::transition_locked(VmState to, std::optional<Error> reason) {
  if (to == state_) return;
  StateChange change{state_, to, std::move(reason)};
  state_ = to;
  state_since_ = std::chrono::steady_clock::now();
  last_error_ = to == VmState::error ? change.reason : std::nullopt;
  if (change.reason) {
    logger()->debug("vmm: state {} -> {}: {}", to_string(change.from), to_string(to),
                    change.reason->message());
  } else {
    logger()->debug("vmm: state {} -> {}", to_string(change.from), to_string(to));
  }
  // With no observer there is nothing to deliver, and waking the callback thread for nothing
  // costs every operation twice (a pause measures the difference: bench/lifecycle).
  if (observers_->empty()) return;
  callbacks_->post([observers = observers_, change = std::move(change)] {
    observers->notify(change);
  });
}

void VirtualMachine::Impl::complete_locked(Completion done, Result<void> result,
                                           Delivery delivery) {
  if (!done) return;
  // Direct only when no observer is registered: with one, the future still comes after the
  // notifications of its transitions, which are queued on the callback thread.
  if (delivery == Delivery::direct && observers_->empty()) {
    done(std::move(result));
    return;
  }
  callbacks_->post([done = std::move(done), result = std::move(result)]() mutable {
    done(std::move(result));
  });
}

void VirtualMachine::Impl::complete_in_flight_locked(Result<void> result) {
  // A save completed here may still have its engine writing: its staging directory belongs to
  // the engine's Done handler and goes when the engine answers or drops it (snapshot/staging.hpp).
  Completion done = std::move(in_flight_->done);
  const Delivery delivery = in_flight_->delivery;
  in_flight_.reset();
  complete_locked(std::move(done), std::move(result), delivery);
}

// ---- follow-ups ----------------------------------------------------------------------------------

bool VirtualMachine::Impl::begin_follow_up(std::uint64_t id, FollowUp step) {
  std::lock_guard lock(mutex_);
  if (closed_ || !in_flight_ || in_flight_->id != id || in_flight_->following_up) return false;
  in_flight_->following_up = true;
  // Started under mutex_ so that shut_down(), which sets closed_ under it, either sees this
  // thread and joins it or stops it from starting. Joining the previous follow-up here cannot
  // wait on mutex_: its operation is over (this one is in flight), so it is past its last use
  // of the lock in follow_up_done() and only returning.
  detail::join_or_detach(follow_up_thread_);
  try {
    // Strong: the Impl outlives the step so that its result always has somewhere to go.
    follow_up_thread_ = std::thread([self = shared_from_this(), id, step = std::move(step)] {
      Result<void> result = [&]() -> Result<void> {
        try {
          return step();
        } catch (const std::exception& e) {
          return make_error(Errc::io, std::string(e.what()));
        }
      }();
      self->follow_up_done(id, std::move(result));
    });
  } catch (const std::system_error& e) {
    in_flight_->following_up = false;
    finish_locked(Error(Errc::io, op_name(in_flight_->operation) +
                                      ": cannot start a thread: " + e.what()));
  }
  return true;
}

void VirtualMachine::Impl::follow_up_done(std::uint64_t id, Result<void> result) {
  std::lock_guard lock(mutex_);
  if (!in_flight_ || in_flight_->id != id) return;  // cannot happen: the follow-up owns it
  in_flight_->following_up = false;
  if (closed_) {
    // Destruction is waiting for this answer: the caller learns it, no state changes any more.
    complete_in_flight_locked(std::move(result));
    return;
  }
  finish_locked(std::move(result));
}

// ---- operations ----------------------------------------------------------------------------------

void VirtualMachine::Impl::run(Operation operation, EngineCall call, Completion done,
                               Delivery delivery) {
  const auto id = reserve(operation, done, delivery);
  if (!id) return;
  detail::Engine* engine = enter(*id);
  if (engine == nullptr) return;
  try {
    (engine->*call)(result_handler(*id));
  } catch (const std::exception& e) {
    // Engines report failures through Done; should one throw anyway, the completion must
    // still come exactly once.
    finish(*id, Error(Errc::backend, op_name(operation) + ": " + e.what()));
  }
}

// ---- vsock ---------------------------------------------------------------------------------------

void VirtualMachine::Impl::connect_vsock(std::uint32_t port,
                                         std::function<void(Result<FileDescriptor>)> done) {
  std::optional<Error> refusal;
  detail::Engine* engine = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (auto device = detail::require_vsock_device(config_, "connect_vsock"); !device) {
      refusal.emplace(device.error());
    } else if (closed_ || state_ != VmState::running) {
      refusal.emplace(Errc::invalid_state,
                      "connect_vsock: not allowed while the VM is " + std::string(to_string(state_)));
    } else {
      engine = engine_.get();
    }
  }
  if (refusal) {
    if (done) done(Result<FileDescriptor>(std::move(*refusal)));
    return;
  }
  // The engine's answer is only posted to the callback thread: a result that arrives after
  // destruction is still delivered there (a future is never left broken) if the thread lives.
  auto user = std::make_shared<std::function<void(Result<FileDescriptor>)>>(std::move(done));
  engine->connect_vsock(port, [callbacks = std::weak_ptr<detail::CallbackThread>(callbacks_),
                               user](Result<FileDescriptor> result) {
    const auto thread = callbacks.lock();
    if (!thread || !*user) return;
    auto shared = std::make_shared<Result<FileDescriptor>>(std::move(result));
    thread->post([user, shared] { (*user)(std::move(*shared)); });
  });
}

Result<Subscription> VirtualMachine::Impl::listen_vsock(
    std::uint32_t port, std::function<void(FileDescriptor)> on_connection) {
  detail::Engine* engine = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (auto device = detail::require_vsock_device(config_, "listen_vsock"); !device) {
      return std::move(device).error();
    }
    // In any state: a listener registered before start() is there when the guest's agent
    // connects early in boot, and it stays across stops and restarts (engines keep it for their
    // life, which is the VM's).
    if (closed_) {
      return make_error(Errc::invalid_state, "listen_vsock: the VM is being destroyed");
    }
    engine = engine_.get();
  }
  // Connections are posted to the callback thread; once the Subscription is reset (or the VM
  // is being destroyed) a connection not yet delivered is dropped, which closes it.
  auto listening = std::make_shared<std::atomic<bool>>(true);
  auto user = std::make_shared<std::function<void(FileDescriptor)>>(std::move(on_connection));
  auto inner = engine->listen_vsock(
      port, [callbacks = std::weak_ptr<detail::CallbackThread>(callbacks_), user,
             listening](FileDescriptor fd) {
        const auto thread = callbacks.lock();
        if (!thread || !*user) return;
        auto shared = std::make_shared<FileDescriptor>(std::move(fd));
        thread->post_while_open([user, listening, shared] {
          if (listening->load()) (*user)(std::move(*shared));
        });
      });
  if (!inner) return std::move(inner).error();
  return Subscription([listening, inner = std::make_shared<Subscription>(std::move(*inner))] {
    listening->store(false);
    inner->reset();
  });
}

// ---- engine events -------------------------------------------------------------------------------

void VirtualMachine::Impl::on_guest_stopped() {
  std::lock_guard lock(mutex_);
  if (closed_ || state_ == VmState::stopped || state_ == VmState::error) return;
  // Not a failure, but StateChange::reason tells observers who stopped the machine.
  transition_locked(VmState::stopped, Error(Errc::cancelled, "the guest stopped the machine"));
  if (in_flight_ && !in_flight_->following_up) {
    const Operation operation = in_flight_->operation;
    if (operation == Operation::stop || operation == Operation::request_stop) {
      complete_in_flight_locked({});  // what they asked for has happened
    } else {
      complete_in_flight_locked(
          Error(Errc::cancelled, op_name(operation) + ": the guest stopped the machine first"));
    }
  }
}

void VirtualMachine::Impl::on_engine_failed(Error reason) {
  std::lock_guard lock(mutex_);
  if (closed_) return;
  if (state_ == VmState::error) {
    logger()->debug("vmm: engine failure while already in error: {}", reason.message());
    return;
  }
  transition_locked(VmState::error, reason);
  // The engine also reports the operation's failure through its Done; completing it here
  // does not depend on that, and the late result is dropped by finish().
  if (in_flight_ && !in_flight_->following_up) {
    complete_in_flight_locked(in_operation(in_flight_->operation, reason));
  }
}

// ---- destruction ---------------------------------------------------------------------------------

void VirtualMachine::Impl::shut_down() {
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    closed_ = true;
    // Console lines and vsock connections still queued are not delivered any more.
    callbacks_->close();
  }
  // Cancels a clock exchange with the guest (within ~100 ms) before the engine goes.
  guest_clock_.stop();
  // A follow-up (a bundle commit) is plain file work: let it finish so that its caller learns
  // whether the bundle was replaced. None starts after closed_ (begin_follow_up).
  detail::join_or_detach(follow_up_thread_);
  std::optional<InFlight> pending;
  std::unique_ptr<detail::Engine> engine;
  {
    std::lock_guard lock(mutex_);
    pending = std::move(in_flight_);
    in_flight_.reset();
    engine = std::move(engine_);
  }
  observers_->clear();
  // Stops the hypervisor. Results and events it delivers from now on find closed_ and are
  // dropped; no lock is held, so an engine thread finishing a callback cannot deadlock us. The
  // Done handlers it drops take their saves' staging directories with them.
  engine.reset();
  if (pending && pending->done) {
    callbacks_->post([done = std::move(pending->done),
                      message = op_name(pending->operation) +
                                ": cancelled: the VM was destroyed"]() mutable {
      done(Result<void>(Error(Errc::cancelled, std::move(message))));
    });
  }
  callbacks_->shut_down();  // delivers what is queued (futures are never left broken)
  work_dir_.remove();
  logger()->debug("vmm: {} VM destroyed", to_string(backend_));
}

namespace detail {

std::shared_ptr<VirtualMachine> make_virtual_machine(std::unique_ptr<Engine> engine,
                                                     Backend backend, WorkDirectory work_dir,
                                                     std::shared_ptr<CallbackThread> callbacks) {
  using Impl = VirtualMachineAccess::Impl;
  return Impl::wrap(std::make_shared<Impl>(std::move(engine), backend, std::move(work_dir),
                                           std::move(callbacks)));
}

}  // namespace detail
}  // namespace vmm
