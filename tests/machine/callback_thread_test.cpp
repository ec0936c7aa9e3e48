// The thread model: every kind of user callback runs on the VM's one callback thread, never on
// the caller's or an engine's thread.
#include "machine/callback_thread.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/fake_vm.hpp"

namespace vmm::testing {
namespace {

class ThreadLog {
 public:
  void record(const std::string& kind) {
    std::lock_guard lock(mutex_);
    threads_[kind].insert(std::this_thread::get_id());
  }
  std::map<std::string, std::set<std::thread::id>> get() {
    std::lock_guard lock(mutex_);
    return threads_;
  }
  bool wait_for(std::size_t kinds) {
    return support::wait_until([&] { return get().size() >= kinds; });
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::set<std::thread::id>> threads_;
};

// Holds the VM's callback thread inside a callback (a connect_vsock result) from construction
// until release() or destruction: what is posted meanwhile waits in its queue.
class HeldCallbackThread {
 public:
  explicit HeldCallbackThread(VirtualMachine& vm) {
    vm.connect_vsock(1, [this, released = release_.get_future().share()](Result<FileDescriptor>) {
      entered_.set_value();
      released.wait();
    });
  }
  ~HeldCallbackThread() { release(); }
  HeldCallbackThread(const HeldCallbackThread&) = delete;
  HeldCallbackThread& operator=(const HeldCallbackThread&) = delete;
  // Whether the callback thread is now held.
  bool held() {
    return entered_.get_future().wait_for(support::kTimeout) == std::future_status::ready;
  }
  void release() {
    if (!released_) release_.set_value();
    released_ = true;
  }

 private:
  std::promise<void> entered_;
  std::promise<void> release_;
  bool released_ = false;
};

TEST(CallbackThreadModel, CompletionsObserversAndVsockShareOneThread) {
  TempDir dir;
  FakeVm fake(base_config(dir));
  ThreadLog log;
  auto observing = fake.vm->on_state_change([&](const StateChange&) { log.record("observer"); });
  fake.vm->start([&](Result<void>) { log.record("completion"); });
  ASSERT_TRUE(fake.log.wait_for(VmState::running));
  fake.vm->connect_vsock(1024, [&](Result<FileDescriptor> fd) {
    EXPECT_TRUE(fd) << fd.error().to_string();
    log.record("connect_vsock");
  });
  auto listening = fake.vm->listen_vsock(5000, [&](FileDescriptor fd) {
    EXPECT_TRUE(fd.valid());
    log.record("listen_vsock");
  });
  ASSERT_TRUE(listening) << listening.error().to_string();
  ASSERT_TRUE(fake.control->emit_vsock_connection(5000));
  ASSERT_TRUE(log.wait_for(4));

  std::set<std::thread::id> all;
  for (const auto& [kind, threads] : log.get()) {
    EXPECT_EQ(threads.size(), 1u) << kind << " ran on several threads";
    all.insert(threads.begin(), threads.end());
  }
  EXPECT_EQ(all.size(), 1u) << "the callbacks did not share one thread";
  EXPECT_EQ(all.count(std::this_thread::get_id()), 0u) << "a callback ran on the caller's thread";
}

// A connection already on its way to the callback thread when the Subscription is reset is
// dropped (closed), not delivered.
TEST(CallbackThreadModel, AResetListenerGetsNoConnectionQueuedBeforeTheReset) {
  TempDir dir;
  FakeVm fake(base_config(dir));
  fake.drive_to(VmState::running);
  ThreadLog log;
  auto listening = fake.vm->listen_vsock(5000, [&](FileDescriptor) { log.record("listen_vsock"); });
  ASSERT_TRUE(listening);
  // Hold the callback thread in a callback so that the connection waits in its queue.
  HeldCallbackThread hold(*fake.vm);
  ASSERT_TRUE(hold.held());
  ASSERT_TRUE(fake.control->emit_vsock_connection(5000));
  ASSERT_TRUE(fake.control->drain());  // the connection is queued behind the held callback
  listening->reset();
  hold.release();
  Completions done;
  fake.vm->pause(done.callback());  // what was queued before has run once this completes
  ASSERT_TRUE(done.wait_for(1));
  EXPECT_TRUE(log.get().empty());
}

// The future forms run no user code. With no observer registered they do not go through the
// callback thread: a pause's future is ready, the state paused, while that thread is held. With
// an observer, a future comes after the notifications of its own transitions, as a callback
// completion does.
TEST(CallbackThreadModel, FuturesSkipTheCallbackThreadOnlyWhenNoObserverWaitsThere) {
  TempDir dir;
  FakeVm fake(base_config(dir));
  fake.drive_to(VmState::running);
  ASSERT_TRUE(fake.log.wait_for_count(2));
  fake.subscription.reset();  // the log's observer: none is registered now
  HeldCallbackThread hold(*fake.vm);
  ASSERT_TRUE(hold.held());
  auto paused = fake.vm->pause();
  ASSERT_EQ(paused.wait_for(support::kTimeout), std::future_status::ready)
      << "the future waited for the held callback thread";
  EXPECT_TRUE(paused.get());
  EXPECT_EQ(fake.vm->state(), VmState::paused);

  std::atomic<int> notified{0};
  auto observing = fake.vm->on_state_change([&](const StateChange&) { ++notified; });
  auto resumed = fake.vm->resume();
  ASSERT_TRUE(support::wait_until([&] { return fake.vm->state() == VmState::running; }));
  EXPECT_EQ(resumed.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout)
      << "the future was ready before the observers of its transitions ran";
  hold.release();
  ASSERT_EQ(resumed.wait_for(support::kTimeout), std::future_status::ready);
  EXPECT_TRUE(resumed.get());
  EXPECT_EQ(notified.load(), 2) << "resuming and running are notified before the future";
}

TEST(CallbackThreadModel, ConsoleLinesArePostedToTheCallbackThreadInOrder) {
  auto thread = std::make_shared<detail::CallbackThread>();
  std::mutex mutex;
  std::vector<std::string> lines;
  bool always_on_thread = true;
  auto sink = detail::deliver_lines_on(thread, [&](std::string_view line) {
    std::lock_guard lock(mutex);
    always_on_thread = always_on_thread && thread->on_this_thread();
    lines.emplace_back(line);
  });
  ASSERT_TRUE(sink);
  std::thread backend([&] {
    for (int i = 0; i < 100; ++i) sink("line " + std::to_string(i));
  });
  backend.join();
  ASSERT_TRUE(support::wait_until([&] {
    std::lock_guard lock(mutex);
    return lines.size() == 100;
  }));
  std::lock_guard lock(mutex);
  EXPECT_TRUE(always_on_thread);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(lines[static_cast<std::size_t>(i)], "line " + std::to_string(i));
}

TEST(CallbackThreadModel, ConsoleLinesStopAtCloseAndWhenTheThreadIsGone) {
  auto thread = std::make_shared<detail::CallbackThread>();
  std::atomic<int> delivered{0};
  auto sink = detail::deliver_lines_on(thread, [&](std::string_view) { ++delivered; });
  thread->close();
  sink("dropped");
  std::promise<void> flushed;
  thread->post([&] { flushed.set_value(); });
  ASSERT_EQ(flushed.get_future().wait_for(support::kTimeout), std::future_status::ready);
  EXPECT_EQ(delivered.load(), 0);
  thread.reset();
  sink("no thread");  // must not crash
  EXPECT_EQ(delivered.load(), 0);
  EXPECT_FALSE(detail::deliver_lines_on(std::make_shared<detail::CallbackThread>(), {}));
}

}  // namespace
}  // namespace vmm::testing
