// VirtualMachine::sync_guest_time and the automatic clock sync after a restore + resume, over the
// fake engine, whose guest agent port is a socketpair served by a FakeGuestAgent.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <thread>

#include "runtime/posix.hpp"
#include "support/fake_guest_agent.hpp"
#include "support/fake_vm.hpp"

namespace vmm::testing {
namespace {

using ::testing::HasSubstr;
using support::wait_until;

constexpr const char* agent_port = "org.qemu.guest_agent.0";

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A VM whose config has the guest agent port; each console_port() call of the engine gets a new
// socketpair whose other end a fresh FakeGuestAgent serves (as QEMU gives each run a channel).
struct AgentVm {
  TempDir dir;
  std::mutex mutex;
  std::vector<std::unique_ptr<test::FakeGuestAgent>> agents;
  bool channel_fails = false;
  std::unique_ptr<FakeVm> fake;

  AgentVm() {
    auto config = base_builder(dir).console_port("vmm.other").console_port(agent_port).build();
    EXPECT_TRUE(config) << config.error().to_string();
    fake = std::make_unique<FakeVm>(*config);
    fake->control->set_console_port_source([this](std::size_t index) -> Result<FileDescriptor> {
      EXPECT_EQ(index, 1U);  // the agent's port, not the first one
      std::lock_guard lock(mutex);
      if (channel_fails) return make_error(Errc::io, "fake: no channel");
      auto pair = detail::stream_socketpair();
      if (!pair) return pair.error();
      agents.push_back(std::make_unique<test::FakeGuestAgent>(std::move((*pair)[1])));
      return std::move((*pair)[0]);
    });
  }
  ~AgentVm() { fake.reset(); }  // the VM (and its clock worker) before the agents

  std::vector<std::int64_t> times_set() {
    std::lock_guard lock(mutex);
    std::vector<std::int64_t> all;
    for (const auto& agent : agents) {
      const auto times = agent->times_set();
      all.insert(all.end(), times.begin(), times.end());
    }
    return all;
  }
  VirtualMachine& vm() { return *fake->vm; }
};

TEST(GuestTime, RefusedWithoutTheGuestAgentPort) {
  TempDir dir;
  auto config = base_builder(dir).console_port("vmm.agent").build();
  ASSERT_TRUE(config);
  FakeVm fake(*config);
  fake.drive_to(VmState::running);
  const auto caller = std::this_thread::get_id();
  std::thread::id ran_on;
  std::optional<Result<void>> result;
  fake.vm->sync_guest_time([&](Result<void> r) {
    ran_on = std::this_thread::get_id();
    result = std::move(r);
  });
  ASSERT_TRUE(result.has_value());  // a refusal completes at once, on the caller's thread
  EXPECT_EQ(ran_on, caller);
  ASSERT_FALSE(*result);
  EXPECT_EQ(result->error().code(), Errc::invalid_config);
  EXPECT_THAT(result->error().message(),
              HasSubstr("no console port named \"org.qemu.guest_agent.0\""));
}

TEST(GuestTime, RefusedUnlessRunning) {
  AgentVm vm;
  for (const auto state : {VmState::stopped, VmState::paused}) {
    if (state == VmState::paused) vm.fake->drive_to(VmState::paused);
    const auto result = await(vm.vm().sync_guest_time());
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code(), Errc::invalid_state);
    EXPECT_THAT(result.error().message(),
                HasSubstr("sync_guest_time: not allowed while the VM is " +
                          std::string(to_string(state))));
  }
  EXPECT_TRUE(vm.times_set().empty());
}

TEST(GuestTime, SetsTheGuestClockToTheHostsAndCompletesOnTheCallbackThread) {
  AgentVm vm;
  vm.fake->drive_to(VmState::running);
  const auto before = now_ns();
  const auto caller = std::this_thread::get_id();
  std::promise<std::thread::id> thread;
  std::promise<Result<void>> done;
  vm.vm().sync_guest_time([&](Result<void> result) {
    thread.set_value(std::this_thread::get_id());
    done.set_value(std::move(result));
  });
  const auto result = await(done.get_future());
  ASSERT_TRUE(result) << result.error().to_string();
  EXPECT_NE(thread.get_future().get(), caller);
  const auto times = vm.times_set();
  ASSERT_EQ(times.size(), 1U);
  EXPECT_GE(times[0], before);
  EXPECT_LE(times[0], now_ns());
}

TEST(GuestTime, AChannelErrorIsTheResult) {
  AgentVm vm;
  vm.fake->drive_to(VmState::running);
  {
    std::lock_guard lock(vm.mutex);
    vm.channel_fails = true;
  }
  const auto result = await(vm.vm().sync_guest_time());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), Errc::io);
  EXPECT_THAT(result.error().message(), HasSubstr("fake: no channel"));
}

// Saves, stops and restores the VM, stopped or running (it is paused afterwards).
void save_stop_restore(AgentVm& vm) {
  if (vm.vm().state() == VmState::running) {
    ASSERT_TRUE(await(vm.vm().pause()));
  } else {
    vm.fake->drive_to(VmState::paused);
  }
  const auto bundle = vm.dir.path() / "bundle";
  ASSERT_TRUE(await(vm.vm().save(bundle)));
  ASSERT_TRUE(await(vm.vm().stop()));
  ASSERT_TRUE(await(vm.vm().restore(bundle)));
}

TEST(GuestTime, SetAutomaticallyWhenARestoredVmIsResumedAndOnlyThen) {
  AgentVm vm;
  // A plain pause and resume: the clock is left alone.
  vm.fake->drive_to(VmState::running);
  ASSERT_TRUE(await(vm.vm().pause()));
  ASSERT_TRUE(await(vm.vm().resume()));
  save_stop_restore(vm);
  EXPECT_TRUE(vm.times_set().empty());  // not while the restored VM is paused
  const auto before = now_ns();
  ASSERT_TRUE(await(vm.vm().resume()));
  ASSERT_TRUE(wait_until([&] { return vm.times_set().size() == 1; }));
  EXPECT_GE(vm.times_set()[0], before);
  // Once per restore: the next pause and resume leave it alone again.
  ASSERT_TRUE(await(vm.vm().pause()));
  ASSERT_TRUE(await(vm.vm().resume()));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(vm.times_set().size(), 1U);
}

TEST(GuestTime, AFailedAutomaticSyncLeavesTheVmRunning) {
  AgentVm vm;
  save_stop_restore(vm);
  {
    std::lock_guard lock(vm.mutex);
    vm.channel_fails = true;
  }
  ASSERT_TRUE(await(vm.vm().resume()));
  ASSERT_TRUE(vm.fake->control->wait_for_call("console_port:1"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(vm.vm().state(), VmState::running);
  EXPECT_TRUE(vm.times_set().empty());
}

TEST(GuestTime, NoAutomaticSyncWithoutThePort) {
  TempDir dir;
  FakeVm fake(base_builder(dir).console_port("vmm.agent").build().value());
  fake.drive_to(VmState::paused);
  ASSERT_TRUE(await(fake.vm->save(dir.path() / "b")));
  ASSERT_TRUE(await(fake.vm->stop()));
  ASSERT_TRUE(await(fake.vm->restore(dir.path() / "b")));
  ASSERT_TRUE(await(fake.vm->resume()));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(fake.control->count("console_port:0"), 0U);
}

}  // namespace
}  // namespace vmm::testing
