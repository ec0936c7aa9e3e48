// vmm internal (QEMU backend): the engine — the Core's worker and operations and the current
// run's surprises (an unexpected STOP, QEMU's exit). The detail::Engine adapter over it is
// engine_adapter.cpp, one QEMU run is a Run (run.cpp), save/restore streaming a Migration
// (migration.cpp), vsock I/O is vsock.cpp, one-command operations sent from the caller's
// thread are direct_commands.cpp, and the factory that plans the runtime layout is factory.cpp.
#include "qemu/qemu_engine.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <climits>
#include <csignal>
#include <string>
#include <utility>

#include <spdlog/spdlog.h>

#include "qemu/core.hpp"
#include "qemu/run_log.hpp"
#include "qemu/vsock.hpp"
#include "runtime/posix.hpp"
#include "runtime/spin_poll.hpp"
#include "vmm/format.hpp"
#include "vmm/logging.hpp"

namespace vmm::qemu {

using namespace std::chrono_literals;
using nlohmann::json;

Core::~Core() {
  // Only reached once the worker and console threads have let go (they hold references), or
  // on one of them as the last holder: never join the current thread.
  detail::join_or_detach(worker_);
  teardown_run();
}

// Called by ~QemuEngine. After it returns no Done, listener or console callback starts.
void Core::shutdown() {
  closing_ = true;
  {
    std::lock_guard lock(mutex_);
    tasks_.clear();
    // SIGTERM is QEMU's orderly quit; an operation waiting on QMP then fails at once.
    if (live_run_ != nullptr) live_run_->interrupt();
    wake_worker();
  }
  const auto self = std::this_thread::get_id();
  bool on_engine_thread = self == worker_.get_id();
  {
    std::lock_guard lock(mutex_);
    on_engine_thread = on_engine_thread || self == console_thread_id_;
  }
  // Callbacks in progress on other threads finish before we return (the gates are recursive,
  // so this also works from inside a callback on this thread).
  { std::lock_guard gate(worker_gate_); }
  { std::lock_guard gate(console_gate_); }
  if (on_engine_thread) {
    // The worker tears the run down after its current task and then exits on its own; the
    // Core lives until it and the console thread have dropped their references. Joining here
    // could wait for ourselves (the worker joins the console thread in teardown).
    if (worker_.joinable()) worker_.detach();
  } else if (worker_.joinable()) {
    worker_.join();
  }
}

// The worker: runs the queued operations in order and, between them, reads the current run's
// QMP events. A reply or event is read by the thread that acts on it, so an operation crosses
// no thread hand-off between sending its command and completing.
void Core::worker_loop() {
  for (;;) {
    wait_for_work();
    if (run_) run_->read_events();
    for (;;) {
      std::function<void()> task;
      {
        std::lock_guard lock(mutex_);
        if (closing_ || tasks_.empty()) break;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
    if (closing_) break;
  }
  teardown_run();
}

void Core::wake_worker() {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(wake_.get(), &one, sizeof one);
}

void Core::wait_for_work() {
  // A command written by send_now() that QEMU leaves unanswered fails here at its deadline;
  // send_now() wakes the worker, so the deadline of a command sent while it slept is seen.
  int timeout_ms = -1;
  bool awaiting_reply = false;
  if (run_) {
    const auto next = run_->expire_sent_commands();
    awaiting_reply = next.has_value();
    if (next) timeout_ms = static_cast<int>(std::min<std::int64_t>(next->count(), INT_MAX));
  }
  std::array<pollfd, 2> fds{{{wake_.get(), POLLIN, 0}, {run_ ? run_->poll_fd() : -1, POLLIN, 0}}};
  // A reply due soon is awaited awake (send_now): being woken by it would add a wake-up to the
  // operation.
  std::chrono::steady_clock::time_point spin_until;
  if (awaiting_reply) {
    std::lock_guard lock(mutex_);
    spin_until = spin_until_;
  }
  if (!awaiting_reply || !detail::poll_spinning(fds, spin_until)) {
    while (::poll(fds.data(), fds.size(), timeout_ms) < 0 && errno == EINTR) {
    }
  }
  if (fds[0].revents != 0) {
    std::uint64_t count = 0;
    [[maybe_unused]] const auto n = ::read(wake_.get(), &count, sizeof count);
  }
}

// Launches a run (torn down first if one is left). On failure nothing of it remains.
Result<void> Core::launch(bool incoming, const QemuCommandLine* command_line) {
  teardown_run();
  clone_run_ = command_line != nullptr;
  prepared_clone_.clear();
  // The VM's own RAM file starts afresh each run (a clone's belongs to its template).
  if (!clone_run_ && !paths_.memory_file.empty()) ::unlink(paths_.memory_file.c_str());
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(mutex_);
    generation = ++generation_;
  }
  std::weak_ptr<Core> weak = weak_from_this();
  RunHooks hooks;
  hooks.on_exit = [weak, generation](ExitStatus status) {
    if (auto core = weak.lock()) {
      core->post([core = core.get(), generation, status] { core->handle_exit(generation, status); });
    }
  };
  hooks.on_unexpected_stop = [weak, generation] {
    if (auto core = weak.lock()) {
      core->post([core = core.get(), generation] { core->check_stopped(generation); });
    }
  };
  // The console thread holds the Core, like the worker: it may outlive the engine briefly.
  hooks.on_console_line = [self = shared_from_this()](std::string_view line) {
    if (!self->options_.on_console_line) return;
    std::lock_guard gate(self->console_gate_);
    if (!self->closing_) self->options_.on_console_line(line);
  };
  // QEMU's stderr: this run's log file (a restore is a new run) and the logger.
  std::uint64_t run_number = 0;
  {
    std::lock_guard lock(mutex_);
    run_number = ++runs_;
  }
  auto log = RunLog::create(work_dir_, run_number);
  if (!log) return std::move(log).error();
  hooks.on_stderr = [log = *log](std::string_view chunk) { log->write(chunk); };
  {
    std::lock_guard lock(mutex_);
    log_path_ = (*log)->path();
    run_started_ = std::chrono::steady_clock::now();
  }
  auto run = Run::start(RunSpec{config_, host_,
                                command_line != nullptr ? *command_line : command_line_, paths_,
                                options_.isolation},
                        incoming, generation, std::move(hooks));
  if (!run) return std::move(run).error();
  run_ = std::move(*run);
  {
    std::lock_guard lock(mutex_);
    live_run_ = run_.get();
    console_thread_id_ = run_->console_thread_id();
  }
  if (auto connected = run_->connect(); !connected) {
    teardown_run();
    return connected;
  }
  std::lock_guard lock(mutex_);
  connected_run_ = run_.get();
  return {};
}

// Ends the current run (if any). Worker thread (or ~Core) only.
void Core::teardown_run() {
  migration_.forget();
  if (!run_) return;
  std::unique_ptr<Run> run = std::move(run_);
  {
    std::lock_guard lock(mutex_);
    if (live_run_ == run.get()) live_run_ = nullptr;
    if (connected_run_ == run.get()) connected_run_ = nullptr;
    ++generation_;  // late events of this run are ignored
  }
  run.reset();  // the teardown (~Run)
  if (!clone_run_ && !paths_.memory_file.empty()) ::unlink(paths_.memory_file.c_str());
}

// The run failed during an operation: collect QEMU's last words, tear it down, and return
// the error for the operation's Done (the operation owns the report, not the listener).
Error Core::fail_run(std::string what) {
  if (!run_) return Error(Errc::backend, std::move(what));
  Error error = run_->last_words(std::move(what));
  teardown_run();
  return error;
}

Result<void> Core::do_start() {
  if (auto launched = launch(false); !launched) return launched;
  if (auto cont = run_->qmp().execute("cont", json::object(), command_timeout); !cont) {
    return fail_run(fmt::format("QEMU did not start the guest ({})", cont.error().message()));
  }
  return {};
}

Result<void> Core::do_simple(std::string_view command, std::string_view what) {
  if (!run_) return make_error(Errc::invalid_state, fmt::format("{}: QEMU is not running", what));
  if (auto reply = run_->execute(command); !reply) return std::move(reply).error();
  return {};
}

Result<void> Core::do_stop() {
  if (!run_) return {};
  run_->expect_exit();
  // quit answers before QEMU exits; the exit itself is what stop waits for.
  (void)run_->qmp().execute("quit", json::object(), quit_timeout);
  if (!run_->qemu().wait(quit_timeout)) {
    run_->qemu().kill(SIGKILL);
    run_->qemu().wait(command_timeout);
  }
  teardown_run();
  return {};
}

Result<void> Core::do_save(const std::filesystem::path& state_file) {
  if (!run_) return make_error(Errc::invalid_state, "save: QEMU is not running");
  auto saved = migration_.save(*run_, state_file);
  if (!saved) return died_during_save(std::move(saved).error());
  return saved;
}

// A save failed. If QEMU died meanwhile the VM is lost, not merely "not saved": the listener
// hears of it before the save's Done, so that the VM is in `error` when the completion runs
// (the Done's result is then dropped by the core).
Error Core::died_during_save(Error error) {
  if (!run_) return error;
  // A closed QMP connection means QEMU is exiting: give it time to be reaped.
  if (!run_->qemu().wait(run_->qmp_closed() ? exit_drain_timeout : 0ms)) return error;
  run_->expect_exit();
  vmm::logger()->warn("qemu: QEMU exited during a save: {}", error.message());
  teardown_run();
  deliver([&] {
    if (auto listener = this->listener()) listener->on_engine_failed(error);
  });
  return error;
}

Result<void> Core::do_restore(const std::filesystem::path& state_file) {
  auto file = Migration::open_state_file(state_file);
  if (!file) return std::move(file).error();
  if (auto launched = launch(true); !launched) return launched;
  if (auto restored = migration_.restore(*run_, std::move(*file), state_file); !restored) {
    return fail_run(restored.error().message());
  }
  return {};
}

// After a STOP we did not ask for: QEMU stops the guest itself on an internal (KVM emulation)
// error and stays alive, which nothing else would notice.
void Core::check_stopped(std::uint64_t generation) {
  if (!run_ || run_->generation() != generation) return;
  auto status = run_->qmp().execute("query-status", json::object(), command_timeout);
  if (!status || status->value("status", "") != "internal-error") return;
  run_->expect_exit();
  std::string message = with_stderr("QEMU stopped the guest after an internal error",
                                    run_->qemu().stderr_tail());
  teardown_run();
  deliver([&] {
    if (auto listener = this->listener()) {
      listener->on_engine_failed(Error(Errc::backend, message));
    }
  });
}

void Core::handle_exit(std::uint64_t generation, ExitStatus status) {
  if (!run_ || run_->generation() != generation || run_->exit_expected()) return;
  // Events sent just before the exit (SHUTDOWN) arrive on the socket before its end: read
  // up to the end so that the decision below sees them.
  run_->drain_events(exit_drain_timeout);
  const RunEvents events = run_->events();
  const std::string tail = run_->qemu().stderr_tail();
  // The guest's last console lines are delivered before the stop is reported.
  teardown_run();
  if (events.shutdown_by_guest && status.success()) {
    vmm::logger()->info("qemu: guest stopped ({})", events.shutdown_reason);
    deliver([&] {
      if (auto listener = this->listener()) listener->on_guest_stopped();
    });
    return;
  }
  Error error(Errc::backend,
              with_stderr(fmt::format("QEMU exited unexpectedly: {}", status.describe()), tail));
  vmm::logger()->warn("qemu: {}", error.message());
  deliver([&] {
    if (auto listener = this->listener()) listener->on_engine_failed(error);
  });
}

Result<FileDescriptor> Core::do_connect_vsock(std::uint32_t port) {
  if (!run_) return make_error(Errc::invalid_state, "connect_vsock: QEMU is not running");
  return connect_vsock(paths_.vsock_cid, port);
}

Result<Subscription> Core::do_listen_vsock(std::uint32_t port,
                                           std::function<void(FileDescriptor)> on_connection) {
  // Keyed by this VM's CID, which stays the same for the engine's life: the listener works
  // before the first start and across restarts, whether or not QEMU runs.
  std::weak_ptr<Core> weak = weak_from_this();
  return listen_vsock(paths_.vsock_cid, port, [weak, on_connection = std::move(on_connection)](
                                                  FileDescriptor connection) {
    const auto core = weak.lock();
    if (!core || core->closing_) return;
    std::lock_guard gate(core->console_gate_);
    if (!core->closing_) on_connection(std::move(connection));
  });
}

}  // namespace vmm::qemu
