// vmm internal: the lifecycle state machine (see virtual_machine_impl.hpp for the threading);
// save() and restore() live in src/snapshot/save_restore.cpp.
#include "machine/virtual_machine_impl.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <exception>
#include <utility>
#include <vector>

#include "snapshot/bundle.hpp"
#include "vmm/logging.hpp"

namespace vmm {

namespace fs = std::filesystem;
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

VirtualMachine::Impl::~Impl() { shut_down(); }

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
                                                           Completion& done) {
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
      in_flight_.emplace(id, operation, std::move(done), state_);
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
  if (closed_ || !in_flight_ || in_flight_->id != id || in_flight_->committing) {
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
  // on meanwhile (a save's commit outlives events), that state stands.
  if (state_ == rule.during) {
    if (result) {
      transition_locked(rule.on_success, std::nullopt);
    } else {
      transition_locked(rule.on_failure, rule.on_failure == VmState::error
                                             ? std::optional<Error>(result.error())
                                             : std::nullopt);
    }
  }
  complete_locked(std::move(operation.done), std::move(result));
}

void VirtualMachine::Impl::transition_locked(VmState to, std::optional<Error> reason) {
  if (to == state_) return;
  StateChange change{state_, to, std::move(reason)};
  state_ = to;
  last_error_ = to == VmState::error ? change.reason : std::nullopt;
  if (change.reason) {
    logger()->debug("vmm: state {} -> {}: {}", to_string(change.from), to_string(to),
                    change.reason->message());
  } else {
    logger()->debug("vmm: state {} -> {}", to_string(change.from), to_string(to));
  }
  callbacks_->post([observers = observers_, change = std::move(change)] {
    observers->notify(change);
  });
}

void VirtualMachine::Impl::complete_locked(Completion done, Result<void> result) {
  if (!done) return;
  callbacks_->post([done = std::move(done), result = std::move(result)]() mutable {
    done(std::move(result));
  });
}

void VirtualMachine::Impl::complete_in_flight_locked(Result<void> result) {
  // A save completed by an event still has the engine writing into its staging directory:
  // removed when the engine answers (save_written), or at destruction if it never does.
  if (!in_flight_->staging.empty()) orphaned_staging_.push_back(in_flight_->staging);
  Completion done = std::move(in_flight_->done);
  in_flight_.reset();
  complete_locked(std::move(done), std::move(result));
}

// ---- operations ----------------------------------------------------------------------------------

void VirtualMachine::Impl::run(Operation operation, EngineCall call, Completion done) {
  const auto id = reserve(operation, done);
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
    if (!config_.vsock()) {
      refusal.emplace(Errc::invalid_config, "connect_vsock: the VM has no vsock device");
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
    if (!config_.vsock()) {
      return make_error(Errc::invalid_config, "listen_vsock: the VM has no vsock device");
    }
    if (closed_ || state_ != VmState::running) {
      return make_error(Errc::invalid_state, "listen_vsock: not allowed while the VM is " +
                                                 std::string(to_string(state_)));
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
  if (in_flight_ && !in_flight_->committing) {
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
  if (in_flight_ && !in_flight_->committing) {
    complete_in_flight_locked(in_operation(in_flight_->operation, reason));
  }
}

// ---- destruction ---------------------------------------------------------------------------------

void VirtualMachine::Impl::shut_down() {
  std::optional<InFlight> pending;
  std::unique_ptr<detail::Engine> engine;
  std::vector<fs::path> orphaned;
  {
    std::unique_lock lock(mutex_);
    if (closed_) return;
    closed_ = true;
    // Console lines and vsock connections still queued are not delivered any more.
    callbacks_->close();
    // A bundle commit is plain file work on another thread: let it finish so that its caller
    // learns whether the bundle was replaced.
    commit_finished_.wait(lock, [&] { return !in_flight_ || !in_flight_->committing; });
    pending = std::move(in_flight_);
    in_flight_.reset();
    engine = std::move(engine_);
    orphaned.swap(orphaned_staging_);
  }
  observers_->clear();
  // Stops the hypervisor. Results and events it delivers from now on find closed_ and are
  // dropped; no lock is held, so an engine thread finishing a callback cannot deadlock us.
  engine.reset();
  for (const auto& staging : orphaned) detail::remove_staging_directory(staging);
  if (pending) {
    Result<void> result =
        pending->outcome
            ? std::move(*pending->outcome)
            : Result<void>(Error(Errc::cancelled, op_name(pending->operation) +
                                                      ": cancelled: the VM was destroyed"));
    if (!pending->outcome && !pending->staging.empty()) {
      detail::remove_staging_directory(pending->staging);
    }
    if (pending->done) {
      callbacks_->post([done = std::move(pending->done), result = std::move(result)]() mutable {
        done(std::move(result));
      });
    }
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
