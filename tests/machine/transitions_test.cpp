// Every allowed transition and every refused one, through a VirtualMachine over the fake engine.
#include <gtest/gtest.h>

#include <gmock/gmock.h>

#include <vector>

#include "support/fake_vm.hpp"

namespace vmm::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class Transitions : public ::testing::Test {
 protected:
  TempDir dir_;
  FakeVm fake_{base_config(dir_)};
  VirtualMachine& vm() { return *fake_.vm; }
};

TEST_F(Transitions, StartPauseResumeStopWalkThroughTheTransitionalStates) {
  EXPECT_EQ(vm().state(), VmState::stopped);
  ASSERT_TRUE(await(vm().start()));
  EXPECT_EQ(vm().state(), VmState::running);
  ASSERT_TRUE(await(vm().pause()));
  EXPECT_EQ(vm().state(), VmState::paused);
  ASSERT_TRUE(await(vm().resume()));
  EXPECT_EQ(vm().state(), VmState::running);
  ASSERT_TRUE(await(vm().pause()));
  ASSERT_TRUE(await(vm().stop()));  // stop from paused
  EXPECT_EQ(vm().state(), VmState::stopped);
  ASSERT_TRUE(await(vm().start()));
  ASSERT_TRUE(await(vm().stop()));  // stop from running
  ASSERT_TRUE(fake_.log.wait_for_count(14));
  EXPECT_THAT(fake_.log.targets(),
              ElementsAre(VmState::starting, VmState::running, VmState::pausing, VmState::paused,
                          VmState::resuming, VmState::running, VmState::pausing, VmState::paused,
                          VmState::stopping, VmState::stopped, VmState::starting,
                          VmState::running, VmState::stopping, VmState::stopped));
  EXPECT_THAT(fake_.control->calls(), ElementsAre("start", "pause", "resume", "pause", "stop",
                                                  "start", "stop"));
  for (const auto& change : fake_.log.changes()) EXPECT_FALSE(change.reason.has_value());
}

TEST_F(Transitions, ChangesChainFromEachOther) {
  fake_.drive_to(VmState::paused);
  ASSERT_TRUE(fake_.log.wait_for_count(4));
  const auto changes = fake_.log.changes();
  EXPECT_EQ(changes.front().from, VmState::stopped);
  for (std::size_t i = 1; i < changes.size(); ++i) EXPECT_EQ(changes[i].from, changes[i - 1].to);
}

TEST_F(Transitions, RequestStopKeepsTheVmRunningUntilTheGuestActs) {
  fake_.drive_to(VmState::running);
  ASSERT_TRUE(await(vm().request_stop()));
  EXPECT_EQ(vm().state(), VmState::running);
  EXPECT_EQ(fake_.control->count("request_stop"), 1u);
  ASSERT_TRUE(fake_.control->emit_guest_stopped());
  ASSERT_TRUE(fake_.log.wait_for(VmState::stopped));
  EXPECT_EQ(vm().state(), VmState::stopped);
  const auto last = fake_.log.changes().back();
  EXPECT_EQ(last.from, VmState::running);
  ASSERT_TRUE(last.reason.has_value());
  EXPECT_THAT(last.reason->message(), HasSubstr("guest stopped"));
  EXPECT_FALSE(vm().last_error().has_value());
}

TEST_F(Transitions, StartIsAllowedFromError) {
  fake_.drive_to(VmState::error);
  EXPECT_EQ(vm().state(), VmState::error);
  ASSERT_TRUE(await(vm().start()));
  EXPECT_EQ(vm().state(), VmState::running);
  EXPECT_FALSE(vm().last_error().has_value()) << "last_error belongs to the error state";
}

// Each resting state, and the operations it refuses.
struct Refusal {
  VmState state;
  std::vector<const char*> refused;
};

TEST_F(Transitions, RefusedOperationsFailAtOnceNamingTheState) {
  const Refusal refusals[] = {
      {VmState::stopped, {"pause", "resume", "stop", "request_stop", "save"}},
      {VmState::running, {"start", "resume", "save", "restore"}},
      {VmState::paused, {"start", "pause", "request_stop", "restore"}},
      {VmState::error, {"pause", "resume", "stop", "request_stop", "save"}},
  };
  for (const auto& refusal : refusals) {
    TempDir dir;
    FakeVm fake(base_config(dir));
    fake.drive_to(refusal.state);
    const auto calls_before = fake.control->calls().size();
    for (const std::string operation : refusal.refused) {
      Completions done;
      auto& vm = *fake.vm;
      if (operation == "start") vm.start(done.callback());
      if (operation == "pause") vm.pause(done.callback());
      if (operation == "resume") vm.resume(done.callback());
      if (operation == "stop") vm.stop(done.callback());
      if (operation == "request_stop") vm.request_stop(done.callback());
      if (operation == "save") vm.save(dir.path() / "bundle", done.callback());
      if (operation == "restore") vm.restore(dir.path() / "bundle", done.callback());
      // "At once": the completion ran before the call returned.
      ASSERT_EQ(done.count(), 1u) << operation << " in " << to_string(refusal.state);
      const auto result = done.result(0);
      ASSERT_FALSE(result);
      EXPECT_EQ(result.error().code(), Errc::invalid_state);
      EXPECT_EQ(result.error().message(),
                operation + ": not allowed while the VM is " +
                    std::string(to_string(refusal.state)));
      EXPECT_EQ(vm.state(), refusal.state);
    }
    EXPECT_EQ(fake.control->calls().size(), calls_before) << "a refused operation reached the engine";
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "bundle"));
  }
}

TEST_F(Transitions, EveryOperationIsRefusedWhileAnotherIsInFlight) {
  fake_.control->hold_operations(true);
  Completions start_done;
  vm().start(start_done.callback());
  ASSERT_TRUE(fake_.control->wait_for_call("start"));
  EXPECT_EQ(vm().state(), VmState::starting) << "transitional state set before the engine call";

  Completions refused;
  vm().start(refused.callback());
  vm().pause(refused.callback());
  vm().resume(refused.callback());
  vm().stop(refused.callback());
  vm().request_stop(refused.callback());
  vm().save(dir_.path() / "b", refused.callback());
  vm().restore(dir_.path() / "b", refused.callback());
  ASSERT_EQ(refused.count(), 7u);
  for (std::size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(refused.result(i).error().code(), Errc::invalid_state);
    EXPECT_THAT(refused.result(i).error().message(),
                HasSubstr("while start is in flight (the VM is starting)"));
  }
  EXPECT_EQ(fake_.control->calls().size(), 1u);
  EXPECT_EQ(start_done.count(), 0u);

  ASSERT_TRUE(fake_.control->complete("start"));
  ASSERT_TRUE(start_done.wait_for(1));
  EXPECT_TRUE(start_done.result(0));
  EXPECT_EQ(vm().state(), VmState::running);
}

TEST_F(Transitions, EachTransitionalStateIsVisibleWhileTheEngineWorks) {
  fake_.control->hold_operations(true);
  struct Step {
    const char* operation;
    VmState during;
    VmState after;
  };
  const Step steps[] = {{"start", VmState::starting, VmState::running},
                        {"pause", VmState::pausing, VmState::paused},
                        {"resume", VmState::resuming, VmState::running},
                        {"stop", VmState::stopping, VmState::stopped}};
  for (const auto& step : steps) {
    Completions done;
    const std::string name = step.operation;
    if (name == "start") vm().start(done.callback());
    if (name == "pause") vm().pause(done.callback());
    if (name == "resume") vm().resume(done.callback());
    if (name == "stop") vm().stop(done.callback());
    ASSERT_TRUE(fake_.control->wait_for_call(name));
    EXPECT_EQ(vm().state(), step.during) << name;
    ASSERT_TRUE(fake_.control->complete(name));
    ASSERT_TRUE(done.wait_for(1));
    EXPECT_TRUE(done.result(0)) << name;
    EXPECT_EQ(vm().state(), step.after) << name;
  }
}

TEST_F(Transitions, EngineFailureOfAnOperationPutsTheVmInError) {
  const char* operations[] = {"start", "pause", "resume", "stop"};
  const VmState from[] = {VmState::stopped, VmState::running, VmState::paused, VmState::running};
  for (std::size_t i = 0; i < std::size(operations); ++i) {
    TempDir dir;
    FakeVm fake(base_config(dir));
    fake.drive_to(from[i]);
    const std::string name = operations[i];
    fake.control->fail_next(name, Error(Errc::backend, "scripted " + name + " failure"));
    std::future<Result<void>> future;
    if (name == "start") future = fake.vm->start();
    if (name == "pause") future = fake.vm->pause();
    if (name == "resume") future = fake.vm->resume();
    if (name == "stop") future = fake.vm->stop();
    const auto result = await(std::move(future));
    ASSERT_FALSE(result) << name;
    EXPECT_EQ(result.error().code(), Errc::backend);
    EXPECT_EQ(fake.vm->state(), VmState::error) << name;
    ASSERT_TRUE(fake.vm->last_error().has_value());
    EXPECT_EQ(fake.vm->last_error()->message(), "scripted " + name + " failure");
    ASSERT_TRUE(fake.log.wait_for(VmState::error));
    const auto last = fake.log.changes().back();
    ASSERT_TRUE(last.reason.has_value());
    EXPECT_EQ(*last.reason, *fake.vm->last_error());
  }
}

TEST_F(Transitions, FailedRequestStopLeavesTheVmRunning) {
  fake_.drive_to(VmState::running);
  fake_.control->fail_next("request_stop", Error(Errc::unsupported, "no ACPI"));
  const auto result = await(vm().request_stop());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), Errc::unsupported);
  EXPECT_EQ(vm().state(), VmState::running);
  EXPECT_FALSE(vm().last_error().has_value());
}

TEST_F(Transitions, ConfigAndBackendAreTheEngines) {
  EXPECT_EQ(vm().config(), base_config(dir_));
  EXPECT_EQ(vm().backend(), Backend::qemu);
}

}  // namespace
}  // namespace vmm::testing
