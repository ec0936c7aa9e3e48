// Spawning, descriptor hygiene, exit observation and termination of child processes.
#include "qemu/process.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <future>

namespace vmm::qemu {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<Process> spawn_shell(const std::string& script, std::vector<int> inherit = {},
                                     Process::ExitHandler on_exit = {}) {
  auto process = Process::spawn({"/bin/sh", "-c", script}, inherit, std::move(on_exit));
  EXPECT_TRUE(process.has_value()) << (process ? "" : process.error().to_string());
  return process ? std::move(*process) : nullptr;
}

TEST(Process, ReportsTheExitCodeAndKeepsStderr) {
  std::promise<ExitStatus> exited;
  auto process = spawn_shell("echo 'qemu-system-x86_64: bad option' >&2; exit 3", {},
                             [&](ExitStatus status) { exited.set_value(status); });
  ASSERT_TRUE(process);
  const auto status = exited.get_future().get();
  EXPECT_EQ(status.code, 3);
  EXPECT_EQ(status.signal, 0);
  EXPECT_FALSE(status.success());
  EXPECT_EQ(status.describe(), "exit code 3");
  const auto waited = process->wait(10s);
  ASSERT_TRUE(waited.has_value());
  EXPECT_EQ(waited->code, 3);
  EXPECT_EQ(process->stderr_tail(), "qemu-system-x86_64: bad option\n");
}

TEST(Process, KillIsReportedWithTheSignal) {
  auto process = spawn_shell("exec sleep 100");
  ASSERT_TRUE(process);
  process->kill(SIGKILL);
  const auto status = process->wait(10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->signal, SIGKILL);
  EXPECT_EQ(status->describe(), "signal 9 (Killed)");
  process->kill(SIGKILL);  // after reaping: nothing happens
}

TEST(Process, ChildGetsExactlyTheMappedDescriptors) {
  std::array<int, 2> out{};
  ASSERT_EQ(::pipe2(out.data(), O_CLOEXEC), 0);
  // A descriptor that is not close-on-exec must still not leak into the child. Both it and the
  // pipe's read end sit high, where no mapped descriptor (3) or shell-internal one lands.
  const int stray = ::fcntl(out[0], F_DUPFD, 200);
  ASSERT_GE(stray, 200);
  const int high_read = ::fcntl(out[0], F_DUPFD_CLOEXEC, 300);
  ASSERT_GE(high_read, 300);
  ::close(out[0]);
  out[0] = high_read;
  auto process = spawn_shell(
      "echo mapped >&3; test ! -e /proc/self/fd/4 && test ! -e /proc/self/fd/" +
          std::to_string(stray) + " && test ! -e /proc/self/fd/" + std::to_string(out[0]),
      {out[1]});
  ASSERT_TRUE(process);
  ::close(out[1]);
  const auto status = process->wait(10s);
  ::close(stray);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->code, 0) << process->stderr_tail();
  std::array<char, 16> buffer{};
  const auto n = ::read(out[0], buffer.data(), buffer.size());
  ::close(out[0]);
  EXPECT_EQ(std::string(buffer.data(), static_cast<std::size_t>(std::max<ssize_t>(n, 0))),
            "mapped\n");
}

TEST(Process, RunsInItsOwnProcessGroup) {
  auto process = spawn_shell("exec sleep 100");
  ASSERT_TRUE(process);
  EXPECT_EQ(::getpgid(process->pid()), process->pid());
}

TEST(Process, MissingExecutableIsNotFound) {
  const auto process = Process::spawn({"/nonexistent/qemu-system-x86_64"}, {});
  ASSERT_FALSE(process.has_value());
  EXPECT_EQ(process.error().code(), Errc::not_found);
  EXPECT_NE(process.error().message().find("/nonexistent/qemu-system-x86_64"), std::string::npos);
}

TEST(Process, ClosedDescriptorToPassIsRefusedBeforeSpawning) {
  std::array<int, 2> fds{};
  ASSERT_EQ(::pipe(fds.data()), 0);
  ::close(fds[0]);
  ::close(fds[1]);
  const auto process = Process::spawn({"/bin/true"}, {fds[1]});
  ASSERT_FALSE(process.has_value());
  EXPECT_EQ(process.error().code(), Errc::invalid_config);
  EXPECT_NE(process.error().message().find("not open"), std::string::npos);
}

TEST(Process, DestructionTerminatesAndReaps) {
  pid_t pid = 0;
  {
    auto process = spawn_shell("exec sleep 100");
    ASSERT_TRUE(process);
    pid = process->pid();
  }
  // Reaped: no zombie remains under that pid.
  EXPECT_EQ(::kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST(Process, TerminateEscalatesToSigkill) {
  // The shell ignores SIGTERM (and says so once the trap is set), so only the SIGKILL after the
  // grace period ends it.
  std::array<int, 2> ready{};
  ASSERT_EQ(::pipe2(ready.data(), O_CLOEXEC), 0);
  auto process = spawn_shell("trap '' TERM; echo ready >&3; exec 3>&-; while :; do sleep 1; done",
                             {ready[1]});
  ASSERT_TRUE(process);
  ::close(ready[1]);
  std::array<char, 6> buffer{};
  EXPECT_EQ(::read(ready[0], buffer.data(), buffer.size()), 6);
  ::close(ready[0]);
  const auto status = process->terminate(200ms);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->signal, SIGKILL);
}

TEST(Process, StderrTailIsBounded) {
  auto process = spawn_shell("head -c 20000 /dev/zero | tr '\\0' 'e' >&2; printf END >&2");
  ASSERT_TRUE(process);
  ASSERT_TRUE(process->wait(10s).has_value());
  const auto tail = process->stderr_tail();
  EXPECT_EQ(tail.size(), Process::stderr_tail_bytes);
  EXPECT_EQ(tail.substr(tail.size() - 3), "END");
}

}  // namespace
}  // namespace vmm::qemu

