// Exactly-once completion, observers outside locks, unsubscribing, and destruction from
// awkward places.
#include <gtest/gtest.h>

#include <gmock/gmock.h>

#include <atomic>
#include <fstream>
#include <future>
#include <latch>
#include <thread>

#include "support/fake_vm.hpp"
#include "machine/virtual_machine_impl.hpp"

namespace vmm::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class Concurrency : public ::testing::Test {
 protected:
  TempDir dir_;
  Completions done_;  // outlives fake_, whose callback thread may still deliver to it
  FakeVm fake_{base_config(dir_)};
  VirtualMachine& vm() { return *fake_.vm; }
  // Destroys the VM: its callback thread is drained and joined, so every completion that will
  // ever come has come.
  void destroy_vm() {
    fake_.subscription.reset();
    fake_.vm.reset();
  }
};

TEST_F(Concurrency, EngineFailureDuringAnOperationCompletesItOnceAndTheStateStaysError) {
  fake_.drive_to(VmState::running);
  fake_.control->hold_operations(true);
  vm().pause(done_.callback());
  ASSERT_TRUE(fake_.control->wait_for_call("pause"));
  ASSERT_TRUE(fake_.control->emit_failure(Error(Errc::backend, "qemu exited with signal 9")));
  ASSERT_TRUE(done_.wait_for(1));
  ASSERT_FALSE(done_.result(0));
  EXPECT_EQ(done_.result(0).error().code(), Errc::backend);
  EXPECT_THAT(done_.result(0).error().message(), HasSubstr("pause: qemu exited with signal 9"));
  EXPECT_EQ(vm().state(), VmState::error);

  // The engine's own (late, even successful) result for that pause changes nothing.
  ASSERT_TRUE(fake_.control->complete("pause"));
  ASSERT_TRUE(fake_.control->drain());
  EXPECT_EQ(vm().state(), VmState::error);
  ASSERT_TRUE(vm().last_error().has_value());
  EXPECT_EQ(vm().last_error()->message(), "qemu exited with signal 9");
  destroy_vm();
  EXPECT_EQ(done_.count(), 1u);
  EXPECT_THAT(fake_.log.targets(), ElementsAre(VmState::starting, VmState::running,
                                               VmState::pausing, VmState::error));
}

TEST_F(Concurrency, GuestStopDuringAnOperationCompletesItOnce) {
  fake_.drive_to(VmState::running);
  fake_.control->hold_operations(true);
  vm().pause(done_.callback());
  ASSERT_TRUE(fake_.control->wait_for_call("pause"));
  ASSERT_TRUE(fake_.control->emit_guest_stopped());
  ASSERT_TRUE(done_.wait_for(1));
  EXPECT_EQ(done_.result(0).error().code(), Errc::cancelled);
  EXPECT_THAT(done_.result(0).error().message(), HasSubstr("guest stopped"));
  EXPECT_EQ(vm().state(), VmState::stopped);
  ASSERT_TRUE(fake_.control->complete("pause"));
  ASSERT_TRUE(fake_.control->drain());
  EXPECT_EQ(vm().state(), VmState::stopped);
  destroy_vm();
  EXPECT_EQ(done_.count(), 1u);
}

TEST_F(Concurrency, GuestStopDuringAHardStopCountsAsItsSuccess) {
  fake_.drive_to(VmState::running);
  fake_.control->hold_operations(true);
  vm().stop(done_.callback());
  ASSERT_TRUE(fake_.control->wait_for_call("stop"));
  ASSERT_TRUE(fake_.control->emit_guest_stopped());
  ASSERT_TRUE(done_.wait_for(1));
  EXPECT_TRUE(done_.result(0));
  EXPECT_EQ(vm().state(), VmState::stopped);
}

TEST_F(Concurrency, DestroyingTheVmMidOperationCancelsItAndStopsTheEngine) {
  fake_.drive_to(VmState::running);
  fake_.control->hold_operations(true);
  auto future = vm().pause();
  ASSERT_TRUE(fake_.control->wait_for_call("pause"));
  destroy_vm();
  EXPECT_TRUE(fake_.control->engine_destroyed());
  const auto result = await(std::move(future));
  ASSERT_FALSE(result) << "the promise must be kept, with an error";
  EXPECT_EQ(result.error().code(), Errc::cancelled);
  EXPECT_THAT(result.error().message(), HasSubstr("pause"));
  EXPECT_FALSE(fake_.control->complete("pause")) << "the engine's pending result was dropped";
}

TEST_F(Concurrency, CompletionsAndObserversRunOnTheLibraryThreadInTransitionOrder) {
  std::mutex mutex;
  std::vector<std::string> events;
  auto subscription = vm().on_state_change([&](const StateChange& change) {
    std::lock_guard lock(mutex);
    events.push_back(std::string("state ") + std::string(to_string(change.to)));
  });
  std::promise<std::thread::id> completion_thread;
  vm().start([&](Result<void> result) {
    {
      std::lock_guard lock(mutex);
      events.push_back(result ? "start ok" : "start failed");
    }
    completion_thread.set_value(std::this_thread::get_id());
  });
  auto thread = completion_thread.get_future();
  ASSERT_EQ(thread.wait_for(kTimeout), std::future_status::ready);
  EXPECT_NE(thread.get(), std::this_thread::get_id()) << "never on the caller's thread";
  std::lock_guard lock(mutex);
  EXPECT_THAT(events, ElementsAre("state starting", "state running", "start ok"));
}

TEST_F(Concurrency, ObserverMayReadStateAndStartAnotherOperation) {
  // Called with no library lock held: state() and pause() from inside would deadlock otherwise.
  std::atomic<int> seen_running{0};
  std::promise<Result<void>> paused;
  auto subscription = vm().on_state_change([&](const StateChange& change) {
    if (change.to != VmState::running || seen_running++ != 0) return;
    EXPECT_EQ(fake_.vm->state(), VmState::running);
    fake_.vm->pause([&](Result<void> result) { paused.set_value(std::move(result)); });
  });
  vm().start(done_.callback());
  auto future = paused.get_future();
  ASSERT_EQ(future.wait_for(kTimeout), std::future_status::ready);
  EXPECT_TRUE(future.get());
  EXPECT_EQ(vm().state(), VmState::paused);
}

TEST_F(Concurrency, RefusalInsideAnObserverCompletesAtOnce) {
  std::promise<Result<void>> refused;
  auto subscription = vm().on_state_change([&](const StateChange& change) {
    if (change.to == VmState::running) {
      fake_.vm->resume([&](Result<void> result) { refused.set_value(std::move(result)); });
    }
  });
  ASSERT_TRUE(await(vm().start()));
  auto future = refused.get_future();
  ASSERT_EQ(future.wait_for(kTimeout), std::future_status::ready);
  const auto result = future.get();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message(), "resume: not allowed while the VM is running");
}

TEST_F(Concurrency, ObserverMayUnsubscribeItselfAndOthers) {
  std::atomic<int> first_calls{0};
  std::atomic<int> second_calls{0};
  Subscription first;
  Subscription second;
  first = vm().on_state_change([&](const StateChange&) {
    ++first_calls;
    first.reset();   // itself
    second.reset();  // and one that comes after it in this very notification
  });
  second = vm().on_state_change([&](const StateChange&) { ++second_calls; });
  ASSERT_TRUE(await(vm().start()));
  ASSERT_TRUE(await(vm().stop()));
  destroy_vm();
  EXPECT_EQ(first_calls.load(), 1);
  EXPECT_EQ(second_calls.load(), 0);
}

TEST_F(Concurrency, ResetSubscriptionIsNeverCalledAgain) {
  std::atomic<int> calls{0};
  auto subscription = vm().on_state_change([&](const StateChange&) { ++calls; });
  ASSERT_TRUE(await(vm().start()));
  // A callback completion runs after the notifications of its own transitions, on the same
  // thread: all four were seen. (A future may be ready before them: it is no callback.)
  Completions paused;
  vm().pause(paused.callback());
  ASSERT_TRUE(paused.wait_for(1));
  EXPECT_EQ(calls.load(), 4);
  subscription.reset();
  ASSERT_TRUE(await(vm().resume()));
  ASSERT_TRUE(await(vm().stop()));
  destroy_vm();  // drains every notification there will ever be
  EXPECT_EQ(calls.load(), 4);
  EXPECT_EQ(fake_.log.changes().size(), 8u) << "the other observer kept hearing";
}

TEST_F(Concurrency, SubscriptionOutlivingTheVmIsHarmless) {
  auto subscription = vm().on_state_change([](const StateChange&) {});
  destroy_vm();
  subscription.reset();  // the registry is gone; this must do nothing
  SUCCEED();
}

TEST_F(Concurrency, LastReferenceDroppedInsideACompletionDestroysTheVm) {
  fake_.drive_to(VmState::running);
  fake_.subscription.reset();
  std::latch destroyed_inside(1);
  std::shared_ptr<VirtualMachine> vm = std::move(fake_.vm);
  std::thread::id completion_thread;
  // The completion holds the only reference; dropping it destroys the VM on the library
  // thread, which must neither deadlock nor join itself.
  auto* raw = vm.get();
  raw->pause([vm = std::move(vm), &completion_thread, &destroyed_inside](Result<void>) mutable {
    completion_thread = std::this_thread::get_id();
    vm.reset();
    destroyed_inside.count_down();
  });
  ASSERT_TRUE(fake_.control->wait_engine_destroyed());
  destroyed_inside.wait();
  EXPECT_NE(completion_thread, std::this_thread::get_id());
}

TEST_F(Concurrency, LastReferenceDroppedInsideAnObserverDestroysTheVm) {
  auto vm = std::move(fake_.vm);
  fake_.subscription.reset();
  std::latch stopped(1);
  Subscription subscription;
  subscription = vm->on_state_change(
      [holder = std::make_shared<std::shared_ptr<VirtualMachine>>(vm), &stopped](
          const StateChange& change) mutable {
        if (change.to != VmState::running) return;
        holder->reset();  // the last reference: the VM goes away inside its own notification
        stopped.count_down();
      });
  auto* raw = vm.get();
  vm.reset();
  Completions start;
  raw->start(start.callback());
  ASSERT_TRUE(fake_.control->wait_engine_destroyed());
  stopped.wait();
  ASSERT_TRUE(start.wait_for(1)) << "start's completion is still delivered";
  EXPECT_TRUE(start.result(0));
  subscription.reset();
}

TEST_F(Concurrency, LastReferenceDroppedOnAnEngineThreadDestroysTheVm) {
  // connect_vsock's completion comes straight from the engine, on the engine's thread.
  fake_.drive_to(VmState::running);
  fake_.subscription.reset();
  std::shared_ptr<VirtualMachine> vm = std::move(fake_.vm);
  auto* raw = vm.get();
  std::latch returned(1);
  std::thread::id callback_thread;
  raw->connect_vsock(1024, [vm = std::move(vm), &returned, &callback_thread](
                               Result<FileDescriptor>) mutable {
    callback_thread = std::this_thread::get_id();
    vm.reset();  // destroys the VM, and with it the engine whose thread this is
    returned.count_down();
  });
  ASSERT_TRUE(fake_.control->wait_engine_destroyed());
  returned.wait();
  EXPECT_NE(callback_thread, std::this_thread::get_id());
}

TEST_F(Concurrency, ManyThreadsRacingForTheSlotGetExactlyOneAcceptance) {
  fake_.control->hold_operations(true);
  constexpr int kThreads = 8;
  Completions results;
  std::latch go(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      go.arrive_and_wait();
      vm().start(results.callback());
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_TRUE(results.wait_for(kThreads - 1));
  EXPECT_EQ(fake_.control->count("start"), 1u);
  ASSERT_TRUE(fake_.control->complete("start"));
  ASSERT_TRUE(results.wait_for(kThreads));
  int succeeded = 0;
  for (std::size_t i = 0; i < kThreads; ++i) {
    if (results.result(i)) {
      ++succeeded;
    } else {
      EXPECT_EQ(results.result(i).error().code(), Errc::invalid_state);
    }
  }
  EXPECT_EQ(succeeded, 1);
  destroy_vm();
  EXPECT_EQ(results.count(), static_cast<std::size_t>(kThreads));
}

TEST_F(Concurrency, TheEnginesListenerReferenceDoesNotKeepTheVmAlive) {
  fake_.drive_to(VmState::running);
  const auto listener = fake_.control->listener();
  ASSERT_FALSE(listener.expired());
  destroy_vm();
  // An engine thread racing destruction finds nothing to call rather than a dangling VM.
  EXPECT_TRUE(listener.expired());
  EXPECT_TRUE(fake_.control->engine_destroyed());
}

TEST_F(Concurrency, OwnedWorkingDirectoryIsRemovedWithTheVm) {
  auto work = detail::WorkDirectory::prepare({});
  ASSERT_TRUE(work);
  const auto path = work->path();
  ASSERT_TRUE(std::filesystem::is_directory(path));
  auto control = std::make_shared<FakeEngineControl>();
  auto vm = detail::make_virtual_machine(FakeEngine::make(base_config(dir_), control),
                                         Backend::qemu, std::move(*work));
  std::ofstream(path / "qmp.sock") << "runtime file";
  vm.reset();
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace vmm::testing
