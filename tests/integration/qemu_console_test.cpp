// The guest's two consoles on QEMU: the virtio console hvc0 (the one every backend has, and the
// default) and the serial port ttyS0. Both carry the kernel's early lines and the guest's output
// to on_console_line and the serial copy, and host input reaches the guest over the console it
// booted with.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "guest_fixture.hpp"
#include "support/wait.hpp"

namespace vmm::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;


// Polls `condition` until true, or for at most kEvent.
template <typename Condition>
bool wait_for(Condition condition) {
  return vmm::support::wait_until(condition, kEvent);
}

// Collects what the VM writes to a SerialToFd descriptor (its copy of both consoles), so that
// the VM's writes never block on a full socket, and sends input through it.
class HostTerminal {
 public:
  HostTerminal() {
    std::array<int, 2> fds{};
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds.data()) != 0) {
      throw std::runtime_error("socketpair failed");
    }
    host_ = FileDescriptor(fds[0]);
    vm_ = FileDescriptor(fds[1]);
    reader_ = std::thread([this] {
      std::array<char, 4096> buffer{};
      for (;;) {
        const ssize_t n = ::read(host_.get(), buffer.data(), buffer.size());
        if (n <= 0) return;
        std::lock_guard lock(mutex_);
        output_.append(buffer.data(), static_cast<std::size_t>(n));
      }
    });
  }
  ~HostTerminal() {
    ::shutdown(host_.get(), SHUT_RDWR);
    reader_.join();
  }
  HostTerminal(const HostTerminal&) = delete;
  HostTerminal& operator=(const HostTerminal&) = delete;

  int vm_end() const { return vm_.get(); }
  bool type(std::string_view text) {
    return ::send(host_.get(), text.data(), text.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(text.size());
  }
  std::string output() {
    std::lock_guard lock(mutex_);
    return output_;
  }

 private:
  FileDescriptor host_;
  FileDescriptor vm_;
  std::thread reader_;
  std::mutex mutex_;
  std::string output_;
};

class QemuConsoleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    assets_ = find_guest_assets();
    VMM_REQUIRE_GUEST(assets_);
  }
  void TearDown() override {
    if (vm_) {
      EXPECT_TRUE(vm_->stop().get());
    }
    vm_.reset();
    EXPECT_THAT(child_qemu_pids(), ::testing::IsEmpty());
  }

  // Boots the guest on `console` with kernel messages up to KERN_INFO (`quiet` would hide the
  // banner and the console hand-over), the guest echoing host input, and input and output
  // through `terminal`.
  void boot(std::string_view console, HostTerminal& terminal, std::string guest_options = {}) {
    auto builder = guest_config(assets_, "loglevel=7 vmm.echo_input=1 " + guest_options, console);
    builder.serial(SerialToFd{terminal.vm_end()});
    auto config = builder.build();
    ASSERT_TRUE(config) << config.error().to_string();
    auto vm = VirtualMachine::create(*config, guest_create_options(console_));
    ASSERT_TRUE(vm) << vm.error().to_string();
    vm_ = std::move(*vm);
    auto started = vm_->start().get();
    ASSERT_TRUE(started) << started.error().to_string();
    ASSERT_TRUE(console_.wait_for_line("VMM-GUEST-READY", kBoot)) << "the guest did not boot";
  }

  // The guest answers a line of input with VMM-INPUT <line>: only a guest that read it can.
  void expect_input_reaches_the_guest(HostTerminal& terminal, std::string_view word) {
    const std::string answer = "VMM-INPUT " + std::string(word);
    // The reader starts just before READY; a line typed before the tty is open could be lost,
    // so type again until the answer comes (bounded).
    const auto deadline = std::chrono::steady_clock::now() + kEvent;
    bool answered = false;
    while (!answered && std::chrono::steady_clock::now() < deadline) {
      ASSERT_TRUE(terminal.type(std::string(word) + "\n"));
      answered = console_.wait_for_line(answer, 5s);
    }
    EXPECT_TRUE(answered) << "the guest never answered input over its console";
  }

  GuestAssets assets_;
  GuestConsole console_;
  std::shared_ptr<VirtualMachine> vm_;
};

// hvc0 exists only once virtio_console (a module in the initramfs) probes, and the log the
// kernel replays to it then is lost inside virtio_console: the boot log before that comes over
// the UART early console vmm adds, and the kernel hands over to hvc0 by itself.
TEST_F(QemuConsoleTest, VirtioConsoleCarriesTheEarlyKernelLogTheGuestAndInput) {
  HostTerminal terminal;
  boot("hvc0", terminal);
  const auto banner = console_.wait_for_containing("] Linux version ", kEvent);
  ASSERT_TRUE(banner) << "the kernel's first line did not arrive over hvc0";
  EXPECT_THAT(*banner, HasSubstr("cloud-amd64"));
  // The command line the kernel saw is the one vmm gave it.
  const auto cmdline = console_.wait_for_containing("] Kernel command line: ", kEvent);
  ASSERT_TRUE(cmdline);
  EXPECT_THAT(*cmdline, HasSubstr("console=hvc0"));
  EXPECT_TRUE(console_.wait_for_containing("] printk: console [hvc0] enabled", kEvent))
      << "the kernel did not hand its console over to hvc0";
  expect_input_reaches_the_guest(terminal, "hello-over-hvc0");
  // The SerialToFd copy has the same output.
  EXPECT_TRUE(wait_for([&] { return terminal.output().find("VMM-INPUT hello-over-hvc0") !=
                                    std::string::npos; }));
  EXPECT_THAT(terminal.output(), HasSubstr("Linux version "));
}

TEST_F(QemuConsoleTest, SerialConsoleStillCarriesTheKernelLogTheGuestAndInput) {
  HostTerminal terminal;
  boot("ttyS0", terminal);
  const auto banner = console_.wait_for_containing("] Linux version ", kEvent);
  ASSERT_TRUE(banner) << "the kernel's first line did not arrive over ttyS0";
  const auto cmdline = console_.wait_for_containing("] Kernel command line: ", kEvent);
  ASSERT_TRUE(cmdline);
  EXPECT_THAT(*cmdline, HasSubstr("console=ttyS0"));
  expect_input_reaches_the_guest(terminal, "hello-over-ttyS0");
}

}  // namespace
}  // namespace vmm::testing
