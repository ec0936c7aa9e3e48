// vmm internal (QEMU backend): the engine's core — the worker thread and its queue, the current
// Run (run.hpp: one QEMU process and what lives as long as it), the Migration (migration.hpp:
// save/restore streaming) and the callback gates. Defined in qemu_engine.cpp.
#pragma once

#include <sys/eventfd.h>

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
#include <thread>
#include <utility>

#include "machine/engine.hpp"
#include "qemu/command_line.hpp"
#include "qemu/host.hpp"
#include "qemu/migration.hpp"
#include "qemu/plan.hpp"
#include "qemu/run.hpp"
#include "vmm/file_descriptor.hpp"

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
        paths_(std::move(paths)),
        wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

  ~Core();
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  void start_worker() {
    worker_ = std::thread([self = shared_from_this()] { self->worker_loop(); });
  }

  const VmConfig& config() const { return config_; }
  const QemuHostFacts& host() const { return host_; }

  void set_listener(std::weak_ptr<detail::EngineListener> listener) {
    std::lock_guard lock(mutex_);
    listener_ = std::move(listener);
  }

  // Called by ~QemuEngine. After it returns no Done, listener or console callback starts.
  void shutdown();

  // Wakes the worker under the lock: once it can see the task it may run it, destroy the
  // engine from its Done and free the Core, so nothing here may touch the Core after unlocking.
  void post(std::function<void()> task) {
    std::lock_guard lock(mutex_);
    if (closing_) return;
    tasks_.push_back(std::move(task));
    wake_worker();
  }

  // ---- commands sent from the caller's thread (direct_commands.cpp) ------------------------
  // pause, resume and request_stop are one QMP command each. When a run's QMP connection is up,
  // the caller's thread writes the command itself and the worker, which reads QMP anyway, only
  // completes `done` when the reply comes: one thread hand-off instead of two, the first
  // ("wake the worker to write it") being most of vmm's cost over QEMU's own round trip. The
  // worker is woken as the command leaves and spins for its reply (wait_for_work), since being
  // woken by the reply costs another hand-off on a host whose idle CPUs halt. False,
  // with `done` untouched, when it cannot be sent so (no connected run, the connection ended):
  // the operation then runs on the worker as do_simple(), which reports why.
  bool send_now(std::string_view command, detail::Engine::Done& done);

  // ---- operations (run on the worker) ----------------------------------------------------
  Result<void> do_start();
  Result<void> do_simple(std::string_view command, std::string_view what);
  Result<void> do_stop();

  // The digest of the state file the last successful save wrote (read inside its Done).
  std::optional<std::string> saved_state_digest() const { return migration_.saved_digest(); }

  Result<void> do_save(const std::filesystem::path& state_file);
  Result<void> do_restore(const std::filesystem::path& state_file);

  // template.cpp: templates (file-backed RAM, device state only) and their clones.
  Result<void> check_template_support(bool saving) const;
  Result<void> do_save_template(const std::filesystem::path& state_file,
                                const std::filesystem::path& memory_file);
  Result<void> do_restore_clone(const std::filesystem::path& state_file,
                                const std::filesystem::path& memory_file);
  Result<void> do_prepare_clone(const std::filesystem::path& memory_file);

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

  // The current (or last) run's log file (run_log.hpp); any thread.
  std::optional<std::filesystem::path> log_path() {
    std::lock_guard lock(mutex_);
    return log_path_;
  }
  // metrics.cpp: /proc and the tap counters on the calling thread, QMP on the worker.
  VmMetrics metrics();

  std::shared_ptr<detail::EngineListener> listener() {
    std::lock_guard lock(mutex_);
    return listener_.lock();
  }

 private:
  void worker_loop();
  void wake_worker();
  // Waits until a task is queued or the current run's QMP socket has something to read (its
  // events are handled on the worker, like its replies).
  void wait_for_work();

  // ---- the current run ----------------------------------------------------------------
  // `command_line`: another argv for this run (a clone's, which must outlive the run); null:
  // the VM's own.
  Result<void> launch(bool incoming, const QemuCommandLine* command_line = nullptr);
  Result<void> launch_clone(const std::filesystem::path& memory_file);  // template.cpp
  void teardown_run();
  Error fail_run(std::string what);
  Error died_during_save(Error error);

  // ---- events ----------------------------------------------------------------------------
  void check_stopped(std::uint64_t generation);
  // Worker (or the run's teardown): the reply to a send_now() command of run `generation`.
  void complete_sent(std::uint64_t generation, std::string_view command,
                     Result<nlohmann::json> reply, detail::Engine::Done done);
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

  FileDescriptor wake_;  // eventfd the worker polls: a task was queued or shutdown() began
  std::mutex mutex_;     // guards everything below
  std::deque<std::function<void()>> tasks_;
  std::weak_ptr<detail::EngineListener> listener_;
  Run* live_run_ = nullptr;  // for shutdown() from any thread
  Run* connected_run_ = nullptr;  // live_run_ once its QMP is up: for send_now() from any thread
  std::thread::id console_thread_id_;
  std::uint64_t generation_ = 0;
  std::uint64_t runs_ = 0;                             // launches so far: names the run's log
  std::optional<std::filesystem::path> log_path_;
  std::chrono::steady_clock::time_point run_started_;  // of the live run
  // Until when the worker spins for a reply rather than sleeping (send_now, wait_for_work).
  std::chrono::steady_clock::time_point spin_until_;

  std::thread worker_;
  // Worker thread only.
  std::unique_ptr<Run> run_;
  Migration migration_;
  // Templates (template.cpp): whether this run maps a template's RAM file privately, its
  // command line (referenced by the run), and the RAM file of a prepared clone run still
  // waiting for its device state (VmPool).
  bool clone_run_ = false;
  std::optional<QemuCommandLine> clone_command_line_;
  std::filesystem::path prepared_clone_;
  // Worker thread only: the last balloon target set, and the run (generation) it was set for.
  std::optional<std::pair<std::uint64_t, Size>> memory_target_;
};

// The detail::Engine adapter over a started Core (qemu_engine.cpp), for the factory.
std::unique_ptr<detail::Engine> make_engine(std::shared_ptr<Core> core);

}  // namespace vmm::qemu
