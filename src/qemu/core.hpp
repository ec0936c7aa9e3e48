// vmm internal (QEMU backend): the state one QEMU engine shares between its files — the worker,
// the current run, the event record and the save bookkeeping. Its members are defined by job:
// qemu_engine.cpp (worker, operations, events), run.cpp (one QEMU run: launch and teardown),
// migration.cpp (save/restore streaming) and the vsock wrappers below (vsock.cpp does the I/O).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "machine/engine.hpp"
#include "qemu/command_line.hpp"
#include "qemu/host.hpp"
#include "qemu/migration.hpp"
#include "qemu/plan.hpp"
#include "qemu/process.hpp"
#include "qemu/run.hpp"
#include "runtime/console_pump.hpp"
#include "runtime/posix.hpp"

namespace vmm::qemu {

// Every wait is bounded. TCG start-up under load can take seconds before QMP answers.
inline constexpr std::chrono::seconds greeting_timeout{30};
inline constexpr std::chrono::seconds command_timeout{10};
inline constexpr std::chrono::seconds quit_timeout{5};
inline constexpr std::chrono::seconds migration_timeout{300};
inline constexpr std::chrono::seconds exit_drain_timeout{2};

class StateFileWriter;

class Core : public std::enable_shared_from_this<Core> {
 public:
  Core(VmConfig config, CreateOptions options, std::filesystem::path work_dir,
       QemuHostFacts host, QemuCommandLine command_line, QemuRuntimePaths paths)
      : config_(std::move(config)),
        options_(std::move(options)),
        work_dir_(std::move(work_dir)),
        host_(std::move(host)),
        command_line_(std::move(command_line)),
        paths_(std::move(paths)) {}

  ~Core();
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  void start_worker() {
    worker_ = std::thread([self = shared_from_this()] { self->worker_loop(); });
  }

  const VmConfig& config() const { return config_; }

  void set_listener(std::weak_ptr<detail::EngineListener> listener) {
    std::lock_guard lock(mutex_);
    listener_ = std::move(listener);
  }

  // Called by ~QemuEngine. After it returns no Done, listener or console callback starts.
  void shutdown();

  // Wakes waiters on events_; taking the mutex first means a waiter between its predicate
  // check and its wait cannot miss the notification.
  void notify_events() {
    std::lock_guard lock(mutex_);
    events_.notify_all();
  }

  // Notifies under the lock: once the worker can see the task it may run it, destroy the engine
  // from its Done and free the Core, so nothing here may touch the Core after unlocking.
  void post(std::function<void()> task) {
    std::lock_guard lock(mutex_);
    if (closing_) return;
    tasks_.push_back(std::move(task));
    work_ready_.notify_one();
  }

  // ---- operations (run on the worker) ----------------------------------------------------
  Result<void> do_start();
  Result<void> do_pause();
  Result<void> do_resume();
  Result<void> do_simple(std::string_view command, std::string_view what);
  Result<void> do_stop();

  // The digest of the state file the last successful save wrote (read inside its Done).
  std::optional<std::string> saved_state_digest() const { return saved_digest_; }

  // migration.cpp
  Result<void> do_save(const std::filesystem::path& state_file);
  Result<void> copy_last_save(const std::filesystem::path& state_file);
  Result<void> leave_postmigrate();
  void forget_last_save();
  Error died_during_save(Error error);
  Result<void> do_restore(const std::filesystem::path& state_file);

  // vsock.cpp does the socket work; these add the run check and the callback gate.
  Result<FileDescriptor> do_connect_vsock(std::uint32_t port);
  Result<Subscription> do_listen_vsock(std::uint32_t port,
                                       std::function<void(FileDescriptor)> on_connection);

  // balloon.cpp (worker thread)
  Result<void> do_set_memory_target(Size target);
  Result<MemoryBalloonInfo> do_memory_balloon();

  // console_ports.cpp: a dup of the current run's host end of a console port; any thread.
  Result<FileDescriptor> do_console_port(std::size_t index);

  // Delivers a Done (or listener call) unless the engine is being destroyed.
  template <typename F>
  void deliver(F&& callback) {
    std::lock_guard gate(worker_gate_);
    if (!closing_) callback();
  }

  std::shared_ptr<detail::EngineListener> listener() {
    std::lock_guard lock(mutex_);
    return listener_.lock();
  }

 private:
  void worker_loop();

  // ---- one QEMU run (run.cpp) ------------------------------------------------------------
  Result<void> launch(bool incoming);
  Result<void> prepare_efi_store();
  void start_console_thread();
  void console_loop(const detail::ConsolePumpFds& fds);
  void teardown_run();
  Error fail_run(std::string what);
  Error with_exit_reason(Error error);

  // ---- save (migration.cpp) --------------------------------------------------------------
  void reset_migration_status();
  std::string wait_for_migration();
  Result<void> migrate_out(StateFileWriter& writer);

  // ---- events ----------------------------------------------------------------------------
  void on_event(std::uint64_t generation, const std::string& event, const nlohmann::json& data);
  void check_stopped(std::uint64_t generation);
  void handle_exit(std::uint64_t generation, ExitStatus status);

  VmConfig config_;
  CreateOptions options_;
  std::filesystem::path work_dir_;
  QemuHostFacts host_;
  QemuCommandLine command_line_;
  QemuRuntimePaths paths_;

  std::atomic<bool> closing_{false};
  std::atomic<bool> pausing_{false};  // a pause's `stop` is in flight
  // Held while a user callback runs; recursive so that the callback may destroy the engine.
  std::recursive_mutex worker_gate_;
  std::recursive_mutex console_gate_;

  std::mutex mutex_;  // guards everything below
  std::condition_variable work_ready_;
  std::condition_variable events_;
  std::deque<std::function<void()>> tasks_;
  std::weak_ptr<detail::EngineListener> listener_;
  Process* live_qemu_ = nullptr;
  std::thread::id console_thread_id_;
  std::uint64_t generation_ = 0;
  std::string shutdown_reason_;
  bool shutdown_by_guest_ = false;
  std::string migration_status_;
  // The current run's host ends of the console ports (set by launch, cleared by teardown_run);
  // under the mutex because console_port() may be called from any thread.
  std::vector<FileDescriptor> console_ports_;

  std::thread worker_;
  std::unique_ptr<Run> run_;  // worker thread only
  // Worker thread only. Since the last successful save the guest has not run: its state file
  // (held open, so a replaced or deleted bundle does not matter) and digest.
  FileDescriptor last_save_;
  std::string last_save_digest_;
  // Worker thread only: the last balloon target set, and the run it was set for.
  std::optional<std::pair<std::uint64_t, Size>> memory_target_;
  bool needs_reactivation_ = false;  // QEMU is in postmigrate (a migration was started)
  std::optional<std::string> saved_digest_;  // of the save whose Done is being delivered
};

}  // namespace vmm::qemu
