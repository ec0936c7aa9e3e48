// vmm internal (QEMU backend): one QEMU run — the process and everything that lives exactly as
// long as it (virtiofsd daemons, the QMP connection, the console pump thread and its
// descriptors, the serial file, the record of the run's events), as one RAII object. Destroying
// a Run is the teardown: QEMU is terminated, the console thread joined, the daemons stopped and
// the run's sockets removed. The engine (core.hpp) owns at most one Run at a time.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "qemu/command_line.hpp"
#include "qemu/confinement.hpp"
#include "qemu/host.hpp"
#include "qemu/plan.hpp"
#include "qemu/process.hpp"
#include "qemu/qmp_client.hpp"
#include "vmm/config.hpp"
#include "vmm/error.hpp"
#include "vmm/file_descriptor.hpp"
#include "vmm/isolation.hpp"

namespace vmm::qemu {

// Every wait is bounded. TCG start-up under load can take seconds before QMP answers.
inline constexpr std::chrono::seconds greeting_timeout{30};
inline constexpr std::chrono::seconds command_timeout{10};
inline constexpr std::chrono::seconds quit_timeout{5};
inline constexpr std::chrono::seconds migration_timeout{300};
inline constexpr std::chrono::seconds exit_drain_timeout{2};
// How long the worker spins (runtime/spin_poll.hpp) for the reply to a command sent from the
// caller's thread before it sleeps in poll(): QEMU answers `stop` and `cont` within about a
// millisecond under TCG (bench/lifecycle), much sooner under KVM.
inline constexpr std::chrono::milliseconds reply_spin_window{2};

// What every run of one engine is made from; owned by the engine, outlives its runs.
struct RunSpec {
  const VmConfig& config;
  const QemuHostFacts& host;
  const QemuCommandLine& command_line;
  const QemuRuntimePaths& paths;
  const Isolation& isolation;  // netns and cgroup, entered by the child before exec
};

// How a run reports to its engine. None of these may destroy the Run.
struct RunHooks {
  std::function<void(ExitStatus)> on_exit;          // QEMU was reaped (process waiter thread)
  std::function<void()> on_unexpected_stop;         // a STOP the engine did not ask for
  std::function<void(std::string_view)> on_console_line;  // console thread; held by it only
  std::function<void(std::string_view)> on_stderr;  // QEMU's stderr, as it arrives (waiter thread)
};

// The events of one run that later decisions depend on.
struct RunEvents {
  std::string shutdown_reason;
  bool shutdown_by_guest = false;
  std::string migration_status;
};

class Run {
 public:
  // Spawns the virtiofsd daemons and QEMU (paused: -S, and `-incoming defer` for a restore)
  // and starts the console thread. The QMP connection is made by connect().
  static Result<std::unique_ptr<Run>> start(const RunSpec& spec, bool incoming,
                                            std::uint64_t generation, RunHooks hooks);
  // Waits for QMP's greeting, negotiates, and enables MIGRATION events. On failure the error
  // is the operation's report (QEMU's last words included); the caller drops the Run.
  Result<void> connect();

  // The teardown: terminates QEMU, joins the console thread (or detaches it when destroyed on
  // it), stops the daemons and removes the run's sockets.
  ~Run();
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  std::uint64_t generation() const { return generation_; }
  std::thread::id console_thread_id() const { return console_thread_.get_id(); }
  Process& qemu() { return *qemu_; }
  // After a successful connect().
  QmpClient& qmp() { return *qmp_; }

  // Any thread: makes QEMU quit (SIGTERM) and ends a wait on this run's events.
  void interrupt();

  // The rest is for the engine's worker thread only: it reads QMP itself (replies and events
  // reach it without a thread hand-off).

  // The QMP socket to poll for events between operations; -1 when there is nothing to read.
  int poll_fd() const { return qmp_ ? qmp_->fd() : -1; }
  // Reads and handles the events that have arrived, without blocking.
  void read_events();
  // Fails the commands sent with QmpClient::send_command whose time is up; the time until the
  // next deadline, or nullopt when none waits (the worker's poll timeout).
  std::optional<std::chrono::milliseconds> expire_sent_commands() {
    return qmp_ ? qmp_->expire_overdue() : std::nullopt;
  }

  // One QMP command; errors name QEMU's exit when it died meanwhile (with_exit_reason).
  Result<nlohmann::json> execute(std::string_view command,
                                 const nlohmann::json& arguments = nlohmann::json::object(),
                                 std::chrono::milliseconds timeout = command_timeout,
                                 int pass_fd = -1);

  // A new descriptor on this run's host end of console port `index` (console_ports.cpp). The
  // ends are set before the Run is shared and never change: any thread.
  Result<FileDescriptor> console_port(std::size_t index) const;

  // Marks the STOP events of our own `stop` commands as expected (no internal-error check).
  // Any thread (a pause sent from the caller's thread sets it, its reply clears it).
  void set_own_stop(bool own) { own_stop_ = own; }

  // QEMU's exit belongs to the engine's current operation (stop, a reported failure) rather
  // than being a surprise to report.
  void expect_exit() { exit_expected_ = true; }
  bool exit_expected() const { return exit_expected_; }

  const RunEvents& events() const { return events_; }
  void reset_migration_status() { events_.migration_status.clear(); }
  // Waits for the MIGRATION event that ends the stream; "" if QEMU went away, the run was
  // interrupted or time ran out.
  std::string wait_for_migration(std::chrono::milliseconds timeout);
  // Reads QMP up to the end of the stream (events sent just before QEMU's exit).
  void drain_events(std::chrono::milliseconds timeout);
  // True once the QMP connection has ended.
  bool qmp_closed() const;

  // `what`, with QEMU's exit status (waiting `exit_drain_timeout` for it) and stderr: the
  // report of a run that failed during an operation.
  Error last_words(std::string what);
  // A QMP command failed: if QEMU died meanwhile, say so.
  Error with_exit_reason(Error error);

 private:
  Run(const RunSpec& spec, std::uint64_t generation);
  Result<void> open_serial_file();
  Result<void> start_virtiofsd(const LaunchConfinement& confinement);
  void start_console_thread(std::function<void(std::string_view)> on_line);
  void on_event(const std::string& event, const nlohmann::json& data);

  const RunSpec spec_;
  const std::uint64_t generation_;
  std::function<void()> on_unexpected_stop_;
  FileDescriptor qmp_socket_;     // until connect() hands it to the client
  std::vector<std::unique_ptr<Process>> virtiofsd_;
  std::unique_ptr<Process> qemu_;
  std::unique_ptr<QmpClient> qmp_;
  FileDescriptor console_;        // our end of the guest's ttyS0
  FileDescriptor virtio_console_; // our end of the guest's hvc0
  FileDescriptor console_wake_;   // eventfd: tells the console thread to finish
  FileDescriptor serial_file_;    // SerialToFile, opened per run
  std::vector<FileDescriptor> console_ports_;  // our ends of the console ports, in port order
  std::thread console_thread_;
  FileDescriptor interrupt_;      // eventfd: interrupt() ends waits on QMP
  std::atomic<bool> own_stop_{false};
  bool exit_expected_ = false;
  RunEvents events_;
};

// Error messages stay on one line: QEMU's stderr lines are joined with "; " (the full text goes
// to the log).
std::string with_stderr(std::string message, const std::string& tail);

}  // namespace vmm::qemu
