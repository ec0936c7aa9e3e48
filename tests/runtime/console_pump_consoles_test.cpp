// pump_consoles over two consoles (QEMU's ttyS0 and hvc0), with socketpairs standing in for
// QEMU's ends.
#include "runtime/console_pump.hpp"

#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "vmm/file_descriptor.hpp"

namespace vmm::detail {
namespace {

struct Pair {
  FileDescriptor ours;
  FileDescriptor qemu;
};

Pair stream_pair() {
  std::array<int, 2> fds{};
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds.data()), 0);
  return {FileDescriptor(fds[0]), FileDescriptor(fds[1])};
}

void send_text(const FileDescriptor& fd, std::string_view text) {
  ASSERT_EQ(::write(fd.get(), text.data(), text.size()), static_cast<ssize_t>(text.size()));
}

std::string read_some(const FileDescriptor& fd) {
  std::array<char, 256> buffer{};
  const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
  return n > 0 ? std::string(buffer.data(), static_cast<std::size_t>(n)) : std::string{};
}

class ConsolePumpTest : public ::testing::Test {
 protected:
  void start(int input = -1, bool input_to_virtio = false, int copy = -1) {
    fds_.consoles = {serial_.ours.get(), virtio_.ours.get()};
    fds_.wake = wake_.get();
    fds_.copy = copy;
    fds_.input = input;
    fds_.input_to = input_to_virtio ? fds_.consoles[1] : fds_.consoles[0];
    thread_ = std::thread([this] {
      pump_consoles(fds_, [this](std::string_view line) {
        std::lock_guard lock(mutex_);
        lines_.emplace_back(line);
      });
    });
  }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  ~ConsolePumpTest() override {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(wake_.get(), &one, sizeof one);
    join();
  }
  std::vector<std::string> lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }

  Pair serial_ = stream_pair();
  Pair virtio_ = stream_pair();
  FileDescriptor wake_{::eventfd(0, EFD_CLOEXEC)};
  ConsolePumpFds fds_;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

TEST_F(ConsolePumpTest, LinesFromBothConsolesArriveWholeUntilQemuCloses) {
  start();
  // Half a line on each console first: each console keeps its own partial line.
  send_text(serial_.qemu, "serial ha");
  send_text(virtio_.qemu, "Linux version 6.1 (hv");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  send_text(serial_.qemu, "lf\r\n");
  send_text(virtio_.qemu, "c0)\r\nVMM-GUEST-READY\n");
  serial_.qemu.reset();
  virtio_.qemu.reset();
  join();  // both ends closed: the pump returns by itself
  const auto got = lines();
  EXPECT_EQ(got.size(), 3u);
  EXPECT_NE(std::find(got.begin(), got.end(), "serial half"), got.end());
  EXPECT_NE(std::find(got.begin(), got.end(), "Linux version 6.1 (hvc0)"), got.end());
  EXPECT_NE(std::find(got.begin(), got.end(), "VMM-GUEST-READY"), got.end());
}

TEST_F(ConsolePumpTest, OneConsoleEndingLeavesTheOtherRunning) {
  start();
  serial_.qemu.reset();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  send_text(virtio_.qemu, "still here\n");
  virtio_.qemu.reset();
  join();
  EXPECT_EQ(lines(), std::vector<std::string>{"still here"});
}

TEST_F(ConsolePumpTest, WakeDrainsWhatIsBufferedThenReturns) {
  send_text(serial_.qemu, "last serial words\n");
  send_text(virtio_.qemu, "last hvc words");  // unterminated: flushed at the end
  const std::uint64_t one = 1;
  ASSERT_EQ(::write(wake_.get(), &one, sizeof one), static_cast<ssize_t>(sizeof one));
  start();
  join();  // QEMU's ends are still open: only the wake ends the pump
  const auto got = lines();
  EXPECT_NE(std::find(got.begin(), got.end(), "last serial words"), got.end());
  EXPECT_NE(std::find(got.begin(), got.end(), "last hvc words"), got.end());
}

TEST_F(ConsolePumpTest, InputGoesOnlyToTheChosenConsoleAndOutputIsCopied) {
  auto input = stream_pair();
  auto copy = stream_pair();
  start(input.ours.get(), /*input_to_virtio=*/true, copy.ours.get());
  send_text(input.qemu, "echo hi\n");
  EXPECT_EQ(read_some(virtio_.qemu), "echo hi\n");
  send_text(serial_.qemu, "from ttyS0\n");
  EXPECT_EQ(read_some(copy.qemu), "from ttyS0\n");
  send_text(virtio_.qemu, "from hvc0\n");
  EXPECT_EQ(read_some(copy.qemu), "from hvc0\n");
  // Nothing of the input went to the serial port.
  std::array<char, 16> buffer{};
  EXPECT_EQ(::recv(serial_.qemu.get(), buffer.data(), buffer.size(), MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EAGAIN);
}

TEST_F(ConsolePumpTest, InputToAConsoleQemuClosedEndsInputWithoutSigpipe) {
  auto input = stream_pair();
  start(input.ours.get(), /*input_to_virtio=*/false);
  serial_.qemu.reset();  // QEMU's ttyS0 end is gone
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  send_text(input.qemu, "nobody reads this\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  send_text(virtio_.qemu, "hvc0 goes on\n");
  virtio_.qemu.reset();
  join();  // the process is alive (no SIGPIPE) and the pump ended normally
  EXPECT_EQ(lines(), std::vector<std::string>{"hvc0 goes on"});
}

}  // namespace
}  // namespace vmm::detail
