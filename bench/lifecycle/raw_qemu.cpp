#include "lifecycle/raw_qemu.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <utility>

#include "common/failure.hpp"
#include "lifecycle/interrupts.hpp"

extern char** environ;

namespace lifecycle {

using vmm::FileDescriptor;
using vmm_bench::errno_text;
using vmm_bench::fail;

namespace {

// Socketpair ends above 5, so that posix_spawn's dup2 onto 3, 4 and 5 never meets itself.
std::pair<FileDescriptor, FileDescriptor> socketpair_high() {
  std::array<int, 2> fds{};
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds.data()) != 0) {
    fail("baseline: socketpair: {}", errno_text());
  }
  FileDescriptor a(fds[0]), b(fds[1]);
  FileDescriptor high_b(::fcntl(b.get(), F_DUPFD_CLOEXEC, 10));
  if (high_b.get() < 0) fail("baseline: fcntl: {}", errno_text());
  return {std::move(a), std::move(high_b)};
}

}  // namespace

RawQemu::RawQemu(std::vector<std::string> argv, const std::filesystem::path& stderr_log,
                 GuestLines& guest)
    : guest_(guest), stderr_log_(stderr_log) {
  auto [qmp_ours, qmp_child] = socketpair_high();
  auto [console_ours, console_child] = socketpair_high();
  // The virtio console (hvc0, descriptor 5) as vmm's command line has it; the guest's lines
  // go to the serial console, so this end is only held open.
  auto [virtio_console_ours, virtio_console_child] = socketpair_high();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, stderr_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_adddup2(&actions, qmp_child.get(), 3);
  posix_spawn_file_actions_adddup2(&actions, console_child.get(), 4);
  posix_spawn_file_actions_adddup2(&actions, virtio_console_child.get(), 5);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  // As vmm's Process: own process group, default signal dispositions, nothing blocked.
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setpgroup(&attributes, 0);
  posix_spawnattr_setflags(
      &attributes,
      static_cast<short>(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP));
  std::vector<char*> args;
  for (auto& arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);
  const int rc = ::posix_spawn(&pid_, args[0], &actions, &attributes, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (rc != 0) fail("baseline: posix_spawn {}: {}", argv[0], std::strerror(rc));
  set_live_baseline_pid(pid_);
  pidfd_.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)));
  if (pidfd_.get() < 0) {
    ::kill(pid_, SIGKILL);
    reap();
    fail("baseline: pidfd_open: {}", errno_text());
  }
  qmp_child.reset();
  console_child.reset();
  qmp_fd_ = std::move(qmp_ours);
  console_fd_ = std::move(console_ours);
  virtio_console_fd_ = std::move(virtio_console_ours);
  qmp_ = std::make_unique<RawQmp>(qmp_fd_.get());
  console_thread_ = std::thread([this] { console_loop(); });
}

RawQemu::~RawQemu() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    reap();
  }
  if (console_thread_.joinable()) console_thread_.join();
}

void RawQemu::negotiate() {
  qmp_->read_greeting(greeting_timeout);
  qmp_->execute("qmp_capabilities");
  qmp_->execute("migrate-set-capabilities",
                {{"capabilities", json::array({{{"capability", "events"}, {"state", true}}})}});
}

void RawQemu::quit() {
  qmp_->execute("quit", json::object(), exit_timeout);
  if (!wait_exit(exit_timeout)) {
    ::kill(pid_, SIGKILL);
    if (!wait_exit(command_timeout)) fail("baseline: QEMU did not exit after quit and SIGKILL");
  }
  if (console_thread_.joinable()) console_thread_.join();
}

std::string RawQemu::stderr_text() const {
  std::ifstream in(stderr_log_);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

bool RawQemu::wait_exit(std::chrono::milliseconds timeout) {
  pollfd pfd{pidfd_.get(), POLLIN, 0};
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const int ready = ::poll(&pfd, 1, remaining_ms(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    reap();
    return true;
  }
}

void RawQemu::reap() {
  siginfo_t info{};
  while (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED) != 0 && errno == EINTR) {
  }
  set_live_baseline_pid(0);
  pid_ = -1;
}

void RawQemu::console_loop() {
  std::string pending;
  std::array<char, 16 * 1024> chunk{};
  for (;;) {
    const ssize_t n = ::recv(console_fd_.get(), chunk.data(), chunk.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // QEMU is gone
    const auto now = Clock::now();
    pending.append(chunk.data(), static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (auto newline = pending.find('\n'); newline != std::string::npos;
         newline = pending.find('\n', start)) {
      std::string_view line(pending.data() + start, newline - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      guest_.on_line(line, now);
      start = newline + 1;
    }
    pending.erase(0, start);
  }
}

}  // namespace lifecycle
