// poll_spinning (src/runtime/spin_poll.hpp): ready, deadline, and yielding to the writer.
#include "runtime/spin_poll.hpp"

#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <thread>

#include "vmm/file_descriptor.hpp"

namespace vmm::detail {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Pipe {
  Pipe() {
    std::array<int, 2> fds{};
    EXPECT_EQ(::pipe(fds.data()), 0);
    read_end.reset(fds[0]);
    write_end.reset(fds[1]);
  }
  FileDescriptor read_end;
  FileDescriptor write_end;
};

TEST(SpinPoll, ReturnsAtOnceWithTheReadyDescriptorMarked) {
  Pipe idle, ready;
  ASSERT_EQ(::write(ready.write_end.get(), "x", 1), 1);
  std::array<pollfd, 2> fds{{{idle.read_end.get(), POLLIN, 0}, {ready.read_end.get(), POLLIN, 0}}};
  const auto begin = Clock::now();
  EXPECT_TRUE(poll_spinning(fds, begin + 10s));
  EXPECT_LT(Clock::now() - begin, 5s);
  EXPECT_EQ(fds[0].revents, 0);
  EXPECT_TRUE(fds[1].revents & POLLIN);
}

TEST(SpinPoll, GivesUpAtTheDeadlineWithNothingMarked) {
  Pipe idle;
  std::array<pollfd, 1> fds{{{idle.read_end.get(), POLLIN, 0}}};
  const auto begin = Clock::now();
  EXPECT_FALSE(poll_spinning(fds, begin + 20ms));
  EXPECT_GE(Clock::now() - begin, 20ms);
  EXPECT_EQ(fds[0].revents, 0);
  // A deadline already passed still polls once.
  ASSERT_EQ(::write(idle.write_end.get(), "x", 1), 1);
  EXPECT_TRUE(poll_spinning(fds, begin));
}

#if defined(__linux__)
// The spinner yields: a writer on the same CPU at the same real-time priority runs while it
// spins. SCHED_FIFO makes this deterministic: without the yield, nothing preempts a FIFO thread
// for an equal one, so the writer would run only after the deadline and the spin would fail.
TEST(SpinPoll, YieldsSoThatAWriterOnTheSameCpuRuns) {
  cpu_set_t before;
  ASSERT_EQ(::pthread_getaffinity_np(::pthread_self(), sizeof before, &before), 0);
  int policy_before = 0;
  sched_param param_before{};
  ASSERT_EQ(::pthread_getschedparam(::pthread_self(), &policy_before, &param_before), 0);
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(sched_getcpu(), &one);
  ASSERT_EQ(::pthread_setaffinity_np(::pthread_self(), sizeof one, &one), 0);
  const sched_param fifo{1};
  if (::pthread_setschedparam(::pthread_self(), SCHED_FIFO, &fifo) != 0) {
    ::pthread_setaffinity_np(::pthread_self(), sizeof before, &before);
    GTEST_SKIP() << "needs SCHED_FIFO (CAP_SYS_NICE), which this user lacks";
  }
  Pipe pipe;
  std::array<pollfd, 1> fds{{{pipe.read_end.get(), POLLIN, 0}}};
  // Inherits this thread's CPU and FIFO priority; runnable, it waits for this one to yield.
  auto writer = std::thread([&] { (void)::write(pipe.write_end.get(), "x", 1); });
  const bool ready = poll_spinning(fds, Clock::now() + 300ms);
  ::pthread_setschedparam(::pthread_self(), policy_before, &param_before);
  ::pthread_setaffinity_np(::pthread_self(), sizeof before, &before);
  writer.join();
  EXPECT_TRUE(ready) << "the writer did not run while poll_spinning spun";
}
#endif

}  // namespace
}  // namespace vmm::detail
