// vmm internal (QEMU backend): the engine's core — the worker thread and its queue, the current
// Run (run.hpp: one QEMU process and what lives as long as it), the Migration (migration.hpp:
// save/restore streaming) and the callback gates. Defined in qemu_engine.cpp.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "machine/engine.hpp"
#include "qemu/command_line.hpp"
#include "qemu/host.hpp"
#include "qemu/migration.hpp"
#include "qemu/plan.hpp"
#include "qemu/run.hpp"

namespace vmm::qemu {

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
  std::optional<std::string> saved_state_digest() const { return migration_.saved_digest(); }

  Result<void> do_save(const std::filesystem::path& state_file);
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

  // ---- the current run ----------------------------------------------------------------
  Result<void> launch(bool incoming);
  void teardown_run();
  Error fail_run(std::string what);
  Error died_during_save(Error error);

  // ---- events ----------------------------------------------------------------------------
  void check_stopped(std::uint64_t generation);
  void handle_exit(std::uint64_t generation, ExitStatus status);

  VmConfig config_;
  CreateOptions options_;
  std::filesystem::path work_dir_;
  QemuHostFacts host_;
  QemuCommandLine command_line_;
  QemuRuntimePaths paths_;

  std::atomic<bool> closing_{false};
  // Held while a user callback runs; recursive so that the callback may destroy the engine.
  std::recursive_mutex worker_gate_;
  std::recursive_mutex console_gate_;

  std::mutex mutex_;  // guards everything below
  std::condition_variable work_ready_;
  std::deque<std::function<void()>> tasks_;
  std::weak_ptr<detail::EngineListener> listener_;
  Run* live_run_ = nullptr;  // for shutdown() from any thread
  std::thread::id console_thread_id_;
  std::uint64_t generation_ = 0;

  std::thread worker_;
  // Worker thread only.
  std::unique_ptr<Run> run_;
  Migration migration_;
  // Worker thread only: the last balloon target set, and the run (generation) it was set for.
  std::optional<std::pair<std::uint64_t, Size>> memory_target_;
};

}  // namespace vmm::qemu
