#include "qemu/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>

#include "vmm/format.hpp"

namespace vmm::qemu {
namespace {

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

int pidfd_send_signal(int pidfd, int signal) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, signal, nullptr, 0));
}

// The step of the child that failed, reported with its errno.
enum ChildStep : int { step_exec = 0, step_setup = 1, step_cgroup = 2, step_netns = 3 };

// Reports {step, errno} to the parent through the report pipe (EOF there means exec worked) and
// exits.
[[noreturn]] void fail_child(int report_fd, int step, int error) {
  const std::array<int, 2> report = {step, error};
  [[maybe_unused]] const auto written = ::write(report_fd, report.data(), sizeof report);
  ::_exit(127);
}

// Only async-signal-safe calls from here to execv: the parent may have other threads.
[[noreturn]] void exec_child(char* const* argv, const std::vector<int>& sources, int high_base,
                             int report_fd, pid_t parent, long max_fd, const ChildSetup& setup) {
  auto fail = [&](int error) { fail_child(report_fd, step_setup, error); };
  // The report pipe goes above every target first, keeping close-on-exec.
  report_fd = ::fcntl(report_fd, F_DUPFD_CLOEXEC, high_base + 64);
  if (report_fd < 0) ::_exit(127);
  ::setpgid(0, 0);  // our own group: a terminal's ^C goes to the library's process, not QEMU
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(errno);
  if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
  // Dispositions set to "ignore" (SIGPIPE, often) and blocked signals survive exec: reset.
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &action, nullptr);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  // The cgroup first ("0" is the writer itself), so that everything QEMU does is accounted
  // there; then the network namespace, where QEMU finds its tap interfaces.
  if (setup.cgroup_procs_fd >= 0 && ::write(setup.cgroup_procs_fd, "0", 1) != 1) {
    fail_child(report_fd, step_cgroup, errno);
  }
  if (setup.network_namespace_fd >= 0 && ::setns(setup.network_namespace_fd, CLONE_NEWNET) != 0) {
    fail_child(report_fd, step_netns, errno);
  }

  // sources: [stdin, stdout, stderr, inherit...]. Move each above every target first so that a
  // later dup2 cannot overwrite a source that has not been placed yet.
  std::array<int, 64> moved{};
  const std::size_t count = std::min(sources.size(), moved.size());
  for (std::size_t i = 0; i < count; ++i) {
    moved[i] = ::fcntl(sources[i], F_DUPFD, high_base);
    if (moved[i] < 0) fail(errno);
  }
  for (std::size_t i = 0; i < count; ++i) {
    if (::dup2(moved[i], static_cast<int>(i)) < 0) fail(errno);  // dup2 clears close-on-exec
  }
  // Everything else goes except the report pipe, which is close-on-exec and placed above every
  // target (see below), so that a failing exec can still report its errno.
  const auto first_extra = static_cast<unsigned int>(count);
  const auto report = static_cast<unsigned int>(report_fd);
  if (::syscall(SYS_close_range, first_extra, report - 1, 0) != 0 ||
      ::syscall(SYS_close_range, report + 1, ~0U, 0) != 0) {
    for (long fd = static_cast<long>(count); fd < max_fd; ++fd) {
      if (fd != report_fd) ::close(static_cast<int>(fd));
    }
  }
  ::execv(argv[0], argv);
  fail_child(report_fd, step_exec, errno);
}

}  // namespace

std::string ExitStatus::describe() const {
  if (signal != 0) {
#if defined(__GLIBC__)
    const char* name = ::sigdescr_np(signal);  // thread-safe, unlike strsignal in older libcs
#else
    const char* name = ::strsignal(signal);
#endif
    return fmt::format("signal {} ({})", signal, name != nullptr ? name : "unknown");
  }
  return fmt::format("exit code {}", code);
}

Result<std::unique_ptr<Process>> Process::spawn(const std::vector<std::string>& argv,
                                                const std::vector<int>& inherit,
                                                ExitHandler on_exit, const ChildSetup& setup,
                                                StderrHandler on_stderr) {
  if (argv.empty()) return make_error(Errc::invalid_config, "no program to run");
  if (inherit.size() > 60) return make_error(Errc::invalid_config, "too many descriptors");

  for (const int fd : inherit) {
    if (fd < 0 || ::fcntl(fd, F_GETFD) == -1) {
      return make_error(Errc::invalid_config,
                        fmt::format("cannot pass descriptor {} to {}: it is not open", fd, argv[0]));
    }
  }

  // Everything the child needs is prepared before fork.
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  FileDescriptor devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!devnull) {
    return make_error(Errc::io, fmt::format("cannot open /dev/null: {}", std::strerror(errno)));
  }
  std::array<int, 2> err{};
  std::array<int, 2> report{};
  if (::pipe2(err.data(), O_CLOEXEC) != 0) {
    return make_error(Errc::io, fmt::format("pipe: {}", std::strerror(errno)));
  }
  FileDescriptor err_read(err[0]);
  FileDescriptor err_write(err[1]);
  if (::pipe2(report.data(), O_CLOEXEC) != 0) {
    return make_error(Errc::io, fmt::format("pipe: {}", std::strerror(errno)));
  }
  FileDescriptor report_read(report[0]);
  FileDescriptor report_write(report[1]);

  std::vector<int> sources = {devnull.get(), devnull.get(), err_write.get()};
  sources.insert(sources.end(), inherit.begin(), inherit.end());
  int high_base = static_cast<int>(sources.size()) + 3;
  for (const int fd : sources) high_base = std::max(high_base, fd + 1);
  rlimit limit{};
  const long max_fd = ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY
                          ? static_cast<long>(std::min<rlim_t>(limit.rlim_cur, 1 << 20))
                          : 65536;
  const pid_t parent = ::getpid();

  const pid_t pid = ::fork();
  if (pid < 0) return make_error(Errc::io, fmt::format("fork: {}", std::strerror(errno)));
  if (pid == 0) {
    exec_child(args.data(), sources, high_base, report_write.get(), parent, max_fd, setup);
  }

  report_write.reset();
  err_write.reset();
  std::array<int, 2> report_data{};
  ssize_t got = 0;
  do {
    got = ::read(report_read.get(), report_data.data(), sizeof report_data);
  } while (got < 0 && errno == EINTR);
  if (got == static_cast<ssize_t>(sizeof report_data)) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    const auto [step, error] = report_data;
    const char* text = std::strerror(error);
    switch (step) {
      case step_cgroup:
        return make_error(Errc::io, fmt::format("isolation.cgroup: cannot place {} into the "
                                                "cgroup: {}", argv[0], text));
      case step_netns:
        return make_error(Errc::io, fmt::format("isolation.network_namespace: cannot join the "
                                                "network namespace: {}", text));
      case step_setup:
        return make_error(Errc::io, fmt::format("cannot prepare {}: {}", argv[0], text));
      default:
        return make_error(error == ENOENT ? Errc::not_found : Errc::io,
                          fmt::format("cannot execute {}: {}", argv[0], text));
    }
  }

  FileDescriptor pidfd(pidfd_open(pid));
  if (!pidfd) {
    const int error = errno;
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return make_error(Errc::io, fmt::format("pidfd_open: {}", std::strerror(error)));
  }
  ::fcntl(err_read.get(), F_SETFL, O_NONBLOCK);
  std::unique_ptr<Process> process(new Process(pid, std::move(pidfd), std::move(err_read),
                                              std::move(on_exit), std::move(on_stderr)));
  process->waiter_ = std::thread([p = process.get()] { p->wait_loop(); });
  return process;
}

Process::Process(pid_t pid, FileDescriptor pidfd, FileDescriptor stderr_pipe, ExitHandler on_exit,
                 StderrHandler on_stderr)
    : pid_(pid), pidfd_(std::move(pidfd)), stderr_(std::move(stderr_pipe)),
      on_exit_(std::move(on_exit)), on_stderr_(std::move(on_stderr)) {}

Process::~Process() {
  if (!exit_status()) terminate();
  if (waiter_.joinable()) waiter_.join();
}

void Process::kill(int signal) {
  std::lock_guard lock(mutex_);
  // A pidfd names this very process even after its pid is recycled; once reaped, do nothing.
  if (!status_) pidfd_send_signal(pidfd_.get(), signal);
}

std::optional<ExitStatus> Process::wait(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  exited_.wait_for(lock, timeout, [&] { return status_.has_value(); });
  return status_;
}

std::optional<ExitStatus> Process::exit_status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

std::optional<ExitStatus> Process::terminate(std::chrono::milliseconds grace) {
  kill(SIGTERM);
  if (auto status = wait(grace)) return status;
  kill(SIGKILL);
  return wait(std::chrono::seconds(10));
}

std::string Process::stderr_tail() const {
  std::lock_guard lock(mutex_);
  return stderr_tail_;
}

void Process::wait_loop() {
  std::array<char, 4096> buffer{};
  bool stderr_open = true;
  auto drain = [&] {
    for (;;) {
      const ssize_t n = ::read(stderr_.get(), buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) stderr_open = false;
      if (n <= 0) return;
      if (on_stderr_) on_stderr_(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
      std::lock_guard lock(mutex_);
      stderr_tail_.append(buffer.data(), static_cast<std::size_t>(n));
      if (stderr_tail_.size() > stderr_tail_bytes) {
        stderr_tail_.erase(0, stderr_tail_.size() - stderr_tail_bytes);
      }
    }
  };
  for (;;) {
    std::array<pollfd, 2> fds{{{pidfd_.get(), POLLIN, 0}, {stderr_.get(), POLLIN, 0}}};
    const int n = ::poll(fds.data(), stderr_open ? 2 : 1, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // cannot happen with valid descriptors; reap below regardless
    }
    if (stderr_open && fds[1].revents != 0) drain();
    if (fds[0].revents != 0) break;
  }
  drain();  // whatever the child wrote just before exiting
  ExitStatus status;
  {
    std::lock_guard lock(mutex_);
    siginfo_t info{};
    while (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED) != 0 && errno == EINTR) {
    }
    if (info.si_code == CLD_EXITED) {
      status.code = info.si_status;
    } else {
      status.signal = info.si_status;
    }
    status_ = status;
  }
  exited_.notify_all();
  if (on_exit_) on_exit_(status);
}

}  // namespace vmm::qemu
