// bench/lifecycle: ^C must leave no QEMU and no temporary files behind. SIGINT/SIGTERM/SIGHUP are
// blocked in every thread and taken by one thread with sigwait, which kills the baseline's QEMU,
// removes the temporary directory and exits. (vmm's QEMU children die with this process:
// PR_SET_PDEATHSIG.)
#pragma once

#include <sys/types.h>

#include <filesystem>

namespace lifecycle {

// Call before any other thread starts, so that all inherit the blocked mask.
void start_signal_thread();

// The baseline QEMU to kill on a signal (0: none).
void set_live_baseline_pid(pid_t pid);

// A temporary directory, removed by its destructor or by the signal thread.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace lifecycle
