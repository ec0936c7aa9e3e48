#include "lifecycle/interrupts.hpp"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>

#include "common/failure.hpp"

namespace lifecycle {

namespace fs = std::filesystem;

namespace {

std::atomic<pid_t> live_baseline_pid{0};
std::mutex temp_dir_mutex;
fs::path temp_dir_to_remove;

sigset_t terminating_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

}  // namespace

void start_signal_thread() {
  const sigset_t set = terminating_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set] {
    int signal = 0;
    if (sigwait(&set, &signal) != 0) return;
    const pid_t pid = live_baseline_pid.load();
    if (pid > 0) ::kill(pid, SIGKILL);
    {
      std::lock_guard lock(temp_dir_mutex);
      std::error_code ec;
      if (!temp_dir_to_remove.empty()) fs::remove_all(temp_dir_to_remove, ec);
    }
    std::fprintf(stderr, "lifecycle: interrupted (signal %d)\n", signal);
    ::_exit(128 + signal);
  }).detach();
}

void set_live_baseline_pid(pid_t pid) { live_baseline_pid = pid; }

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "vmm-bench-lifecycle-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) vmm_bench::fail("mkdtemp: {}", vmm_bench::errno_text());
  path_ = pattern;
  std::lock_guard lock(temp_dir_mutex);
  temp_dir_to_remove = path_;
}

TempDir::~TempDir() {
  std::lock_guard lock(temp_dir_mutex);
  std::error_code ec;
  fs::remove_all(path_, ec);
  temp_dir_to_remove.clear();
}

}  // namespace lifecycle
