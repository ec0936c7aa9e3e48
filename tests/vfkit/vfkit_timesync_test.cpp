// vfkit's --timesync (vmm/vfkit_timesync.hpp) over the fake engine: its vsock connections are
// socketpairs served by a FakeGuestAgent. (No /dev/vhost-vsock here: the real vsock path cannot
// be exercised against a QEMU guest on this machine.)
#include "vmm/vfkit_timesync.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/posix.hpp"
#include "support/fake_guest_agent.hpp"
#include "support/fake_vm.hpp"

namespace vmm::testing {
namespace {

using support::wait_until;

struct TimesyncVm {
  TempDir dir;
  std::mutex mutex;
  std::vector<std::unique_ptr<test::FakeGuestAgent>> agents;
  std::vector<std::uint32_t> ports;
  std::unique_ptr<FakeVm> fake = std::make_unique<FakeVm>(base_config(dir));  // has vsock

  explicit TimesyncVm(test::FakeGuestAgentBehaviour behaviour = {}) {
    fake->control->set_vsock_source([this, behaviour](std::uint32_t port) -> Result<FileDescriptor> {
      auto pair = detail::stream_socketpair();
      if (!pair) return pair.error();
      std::lock_guard lock(mutex);
      ports.push_back(port);
      agents.push_back(std::make_unique<test::FakeGuestAgent>(std::move((*pair)[1]), behaviour));
      return std::move((*pair)[0]);
    });
  }
  ~TimesyncVm() { fake.reset(); }
  std::size_t times_set() {
    std::lock_guard lock(mutex);
    std::size_t n = 0;
    for (const auto& agent : agents) n += agent->times_set().size();
    return n;
  }
};

TEST(VfkitTimesync, SetsTheGuestClockOverVsockAfterEachResumeNotAtStart) {
  TimesyncVm vm;
  auto timesync = vfkit::TimeSync::start(*vm.fake->vm, 1234);
  vm.fake->drive_to(VmState::running);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(vm.times_set(), 0U);  // as vfkit: nothing at start
  ASSERT_TRUE(await(vm.fake->vm->pause()));
  ASSERT_TRUE(await(vm.fake->vm->resume()));
  ASSERT_TRUE(wait_until([&] { return vm.times_set() == 1; }));
  ASSERT_TRUE(await(vm.fake->vm->pause()));
  ASSERT_TRUE(await(vm.fake->vm->resume()));
  ASSERT_TRUE(wait_until([&] { return vm.times_set() == 2; }));
  std::lock_guard lock(vm.mutex);
  EXPECT_EQ(vm.ports, (std::vector<std::uint32_t>{1234, 1234}));
}

TEST(VfkitTimesync, AFailedSyncLeavesTheVmRunningAndStoppingIsPrompt) {
  test::FakeGuestAgentBehaviour silent;
  silent.silent = true;  // a guest agent that never answers
  TimesyncVm vm(silent);
  auto timesync = vfkit::TimeSync::start(*vm.fake->vm, 7);
  vm.fake->drive_to(VmState::running);
  ASSERT_TRUE(await(vm.fake->vm->pause()));
  ASSERT_TRUE(await(vm.fake->vm->resume()));
  ASSERT_TRUE(vm.fake->control->wait_for_call("connect_vsock:7"));
  ASSERT_TRUE(wait_until([&] {
    std::lock_guard lock(vm.mutex);
    return !vm.agents.empty() && vm.agents[0]->commands().size() == 1;  // the sync, unanswered
  }));
  EXPECT_EQ(vm.fake->vm->state(), VmState::running);
  const auto before = std::chrono::steady_clock::now();
  timesync.reset();  // cancels the exchange waiting on a silent channel
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(3));
}

}  // namespace
}  // namespace vmm::testing
