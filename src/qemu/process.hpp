// vmm internal (QEMU backend): a supervised child process (QEMU, virtiofsd).
//
// Spawned without a shell; the child gets exactly the descriptors it is given (stdin and stdout
// on /dev/null, stderr captured, then the mapped ones from 3 up), its own process group, and
// PR_SET_PDEATHSIG(SIGKILL) so that it cannot outlive this process. (The death signal fires when
// the spawning *thread* ends: the engine spawns from its worker thread, which lives as long as
// the engine and ends only after killing its children.) A waiter thread reaps it
// through a pidfd (no zombies, no signal sent to a recycled pid) and keeps the tail of stderr.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <sys/types.h>

#include "vmm/error.hpp"
#include "vmm/file_descriptor.hpp"

namespace vmm::qemu {

struct ExitStatus {
  int code = 0;    // exit code, when signal == 0
  int signal = 0;  // terminating signal, or 0

  bool success() const { return signal == 0 && code == 0; }
  // "exit code 1" or "signal 9 (Killed)".
  std::string describe() const;
};

// What the child does before exec, besides its descriptors (CreateOptions::isolation). The
// descriptors are the parent's, open; the child does not keep them.
struct ChildSetup {
  int cgroup_procs_fd = -1;       // cgroup.procs (or v1 tasks) opened for writing: joins it
  int network_namespace_fd = -1;  // a network namespace file: setns before exec
};

class Process {
 public:
  // Called once on the waiter thread after the child has been reaped. Must not destroy the
  // Process.
  using ExitHandler = std::function<void(ExitStatus)>;
  // Called on the waiter thread with each chunk the child writes to stderr, as it arrives.
  using StderrHandler = std::function<void(std::string_view)>;

  static constexpr std::size_t stderr_tail_bytes = 8 * 1024;

  // argv[0] is the executable path. `inherit[i]` becomes descriptor 3 + i in the child (the
  // parent's descriptors are untouched; close-on-exec does not matter for them).
  static Result<std::unique_ptr<Process>> spawn(const std::vector<std::string>& argv,
                                                const std::vector<int>& inherit,
                                                ExitHandler on_exit = {},
                                                const ChildSetup& setup = {},
                                                StderrHandler on_stderr = {});

  // Terminates (SIGTERM, then SIGKILL after `grace`) if still running, and reaps.
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  // Sends `signal` unless the child has already been reaped.
  void kill(int signal);
  // The exit status once reaped; nullopt if still running after `timeout`.
  std::optional<ExitStatus> wait(std::chrono::milliseconds timeout);
  std::optional<ExitStatus> exit_status() const;
  // SIGTERM, wait `grace`, SIGKILL, wait; returns the exit status.
  std::optional<ExitStatus> terminate(std::chrono::milliseconds grace = std::chrono::seconds(2));
  // The last stderr_tail_bytes of the child's stderr (complete once it has exited).
  std::string stderr_tail() const;

 private:
  Process(pid_t pid, FileDescriptor pidfd, FileDescriptor stderr_pipe, ExitHandler on_exit,
          StderrHandler on_stderr);
  void wait_loop();

  pid_t pid_;
  FileDescriptor pidfd_;
  FileDescriptor stderr_;
  ExitHandler on_exit_;
  StderrHandler on_stderr_;

  mutable std::mutex mutex_;
  std::condition_variable exited_;
  std::optional<ExitStatus> status_;
  std::string stderr_tail_;
  std::thread waiter_;
};

}  // namespace vmm::qemu
