// EngineLink: reports go straight to the core (no queue of its own), once-only completions,
// nothing after close(), descriptors never leaked.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <optional>
#include <thread>

#include "vz/engine_link.hpp"

namespace vmm::vz {
namespace {

struct RecordingListener : detail::EngineListener {
  int guest_stops = 0;
  std::optional<Error> failure;
  std::thread::id thread;
  void on_guest_stopped() override {
    ++guest_stops;
    thread = std::this_thread::get_id();
  }
  void on_engine_failed(Error reason) override { failure = std::move(reason); }
};

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

int open_fd() {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  ::close(fds[1]);
  return fds[0];
}

TEST(VzEngineLink, CompletionIsPassedOnAtOnceAndOnlyOnce) {
  auto link = EngineLink::create();
  int calls = 0;
  std::thread::id thread;
  auto done = link->completion([&](Result<void> result) {
    ++calls;
    thread = std::this_thread::get_id();
    EXPECT_TRUE(result);
  });
  done({});
  EXPECT_EQ(calls, 1) << "no hand-off of the link's own: the core posts to its callback thread";
  EXPECT_EQ(thread, std::this_thread::get_id());
  done(Error(Errc::backend, "second"));
  EXPECT_EQ(calls, 1);
}

TEST(VzEngineLink, NothingIsReportedAfterClose) {
  auto link = EngineLink::create();
  auto listener = std::make_shared<RecordingListener>();
  link->set_listener(listener);
  int calls = 0;
  auto done = link->completion([&](Result<void>) { ++calls; });
  link->close();
  done({});
  link->guest_stopped();
  link->engine_failed(Error(Errc::backend, "late"));
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(listener->guest_stops, 0);
  EXPECT_FALSE(listener->failure);
}

TEST(VzEngineLink, EventsReachTheListenerWhileItLives) {
  auto link = EngineLink::create();
  auto listener = std::make_shared<RecordingListener>();
  link->set_listener(listener);
  link->guest_stopped();
  link->engine_failed(Error(Errc::backend, "VZ stopped with an error"));
  EXPECT_EQ(listener->guest_stops, 1);
  EXPECT_EQ(listener->thread, std::this_thread::get_id());
  ASSERT_TRUE(listener->failure);
  EXPECT_EQ(listener->failure->message(), "VZ stopped with an error");

  listener.reset();  // the core is gone: the event is dropped, not crashed on
  link->guest_stopped();
}

TEST(VzEngineLink, DeliveredDescriptorIsOwnedByTheReceiver) {
  auto link = EngineLink::create();
  const int fd = open_fd();
  FileDescriptor received;
  link->deliver_fd([&](Result<FileDescriptor> result) { received = std::move(*result); }, fd);
  EXPECT_EQ(received.get(), fd);
  EXPECT_TRUE(is_open(fd));
  received.reset();
  EXPECT_FALSE(is_open(fd));
}

TEST(VzEngineLink, UndeliveredDescriptorsAreClosed) {
  auto link = EngineLink::create();
  const int connected = open_fd();
  const int accepted = open_fd();
  link->close();
  link->deliver_fd([](Result<FileDescriptor>) { ADD_FAILURE() << "delivered after close"; },
                   connected);
  link->deliver_connection([](FileDescriptor) { ADD_FAILURE() << "delivered after close"; },
                           accepted);
  EXPECT_FALSE(is_open(connected));
  EXPECT_FALSE(is_open(accepted));
}

TEST(VzEngineLink, AReceiverThatDropsTheDescriptorClosesIt) {
  auto link = EngineLink::create();
  const int accepted = open_fd();
  link->deliver_connection([](FileDescriptor) {}, accepted);
  EXPECT_FALSE(is_open(accepted));
}

TEST(VzEngineLink, FdErrorIsDelivered) {
  auto link = EngineLink::create();
  std::optional<Error> error;
  link->deliver_fd([&](Result<FileDescriptor> result) { error = result.error(); },
                   Error(Errc::io, "connection refused"));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code(), Errc::io);
}

}  // namespace
}  // namespace vmm::vz
