#include "lifecycle/handoff.hpp"

#include <pthread.h>
#include <sched.h>

#include <future>
#include <thread>

namespace vmm_bench {

namespace {

// Confines the calling thread to `cpu`; false when the host does not allow it.
bool pin_to(int cpu) {
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  return ::pthread_setaffinity_np(::pthread_self(), sizeof one, &one) == 0;
}

}  // namespace

Samples measure_thread_handoff(int count, Handoff where) {
  const bool other_cpu = where == Handoff::other_cpu && std::thread::hardware_concurrency() >= 2;
  Samples samples;
  // The measuring happens on a thread of its own, so that pinning it leaves the caller's CPU
  // set alone.
  std::thread([&] {
    const bool pinned = other_cpu && pin_to(0);
    for (int i = 0; i < count; ++i) {
      std::promise<Clock::time_point> sent;
      std::promise<double> woke;
      auto waiter = std::thread([&] {
        if (pinned) pin_to(1);
        const auto at = sent.get_future().get();
        woke.set_value(ms_since(at));
      });
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      auto woken = woke.get_future();
      sent.set_value(Clock::now());
      if (pinned) {
        // Busy for 0.5 ms, as vmm's worker stays busy after completing an operation: the waiter
        // cannot simply take over this CPU.
        const auto busy_until = Clock::now() + std::chrono::microseconds(500);
        while (Clock::now() < busy_until) {
        }
      }
      samples.add(woken.get());
      waiter.join();
    }
  }).join();
  return samples;
}

}  // namespace vmm_bench
