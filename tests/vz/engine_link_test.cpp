// EngineLink: once-only completions, nothing after close(), descriptors never leaked.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <deque>
#include <optional>

#include "vz/engine_link.hpp"

namespace vmm::vz {
namespace {

// Collects posted tasks so that each test decides when they run, as a dispatch queue would.
struct ManualExecutor {
  std::deque<EngineLink::Task> tasks;
  EngineLink::Executor executor() {
    return [this](EngineLink::Task task) { tasks.push_back(std::move(task)); };
  }
  void run_all() {
    while (!tasks.empty()) {
      auto task = std::move(tasks.front());
      tasks.pop_front();
      task();
    }
  }
};

struct RecordingListener : detail::EngineListener {
  int guest_stops = 0;
  std::optional<Error> failure;
  void on_guest_stopped() override { ++guest_stops; }
  void on_engine_failed(Error reason) override { failure = std::move(reason); }
};

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

int open_fd() {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  ::close(fds[1]);
  return fds[0];
}

TEST(VzEngineLink, CompletionIsDeliveredOnTheExecutorOnce) {
  ManualExecutor executor;
  auto link = EngineLink::create(executor.executor());
  int calls = 0;
  auto done = link->completion([&](Result<void> result) {
    ++calls;
    EXPECT_TRUE(result);
  });
  done({});
  done(Error(Errc::backend, "second"));
  EXPECT_EQ(calls, 0);  // not inline: only through the executor
  executor.run_all();
  EXPECT_EQ(calls, 1);
}

TEST(VzEngineLink, NothingIsDeliveredAfterClose) {
  ManualExecutor executor;
  auto link = EngineLink::create(executor.executor());
  auto listener = std::make_shared<RecordingListener>();
  link->set_listener(listener);
  int calls = 0;
  auto done = link->completion([&](Result<void>) { ++calls; });
  done({});              // posted before close ...
  link->guest_stopped();
  link->close();         // ... dropped when it runs
  done({});
  link->engine_failed(Error(Errc::backend, "late"));
  executor.run_all();
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(listener->guest_stops, 0);
  EXPECT_FALSE(listener->failure);
}

TEST(VzEngineLink, EventsReachTheListenerWhileItLives) {
  ManualExecutor executor;
  auto link = EngineLink::create(executor.executor());
  auto listener = std::make_shared<RecordingListener>();
  link->set_listener(listener);
  link->guest_stopped();
  link->engine_failed(Error(Errc::backend, "VZ stopped with an error"));
  executor.run_all();
  EXPECT_EQ(listener->guest_stops, 1);
  ASSERT_TRUE(listener->failure);
  EXPECT_EQ(listener->failure->message(), "VZ stopped with an error");

  link->guest_stopped();
  listener.reset();  // the core is gone: the event is dropped, not crashed on
  executor.run_all();
}

TEST(VzEngineLink, DeliveredDescriptorIsOwnedByTheReceiver) {
  ManualExecutor executor;
  auto link = EngineLink::create(executor.executor());
  const int fd = open_fd();
  FileDescriptor received;
  link->deliver_fd([&](Result<FileDescriptor> result) { received = std::move(*result); }, fd);
  executor.run_all();
  EXPECT_EQ(received.get(), fd);
  EXPECT_TRUE(is_open(fd));
  received.reset();
  EXPECT_FALSE(is_open(fd));
}

TEST(VzEngineLink, UndeliveredDescriptorsAreClosed) {
  ManualExecutor executor;
  auto link = EngineLink::create(executor.executor());
  const int connected = open_fd();
  const int accepted = open_fd();
  link->deliver_fd([](Result<FileDescriptor>) { ADD_FAILURE() << "delivered after close"; },
                   connected);
  link->deliver_connection([](FileDescriptor) { ADD_FAILURE() << "delivered after close"; },
                           accepted);
  link->close();
  executor.run_all();
  EXPECT_FALSE(is_open(connected));
  EXPECT_FALSE(is_open(accepted));
}

TEST(VzEngineLink, FdErrorIsDelivered) {
  ManualExecutor executor;
  auto link = EngineLink::create(executor.executor());
  std::optional<Error> error;
  link->deliver_fd([&](Result<FileDescriptor> result) { error = result.error(); },
                   Error(Errc::io, "connection refused"));
  executor.run_all();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code(), Errc::io);
}

TEST(VzEngineLink, ObservedStateIsKept) {
  ManualExecutor executor;
  auto link = EngineLink::create(executor.executor());
  EXPECT_EQ(link->observed_state(), VmState::stopped);
  link->set_observed_state(VmState::running);
  EXPECT_EQ(link->observed_state(), VmState::running);
}

}  // namespace
}  // namespace vmm::vz
