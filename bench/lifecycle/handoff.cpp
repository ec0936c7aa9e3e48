#include "lifecycle/handoff.hpp"

#include <future>
#include <thread>

namespace vmm_bench {

Samples measure_thread_handoff(int count) {
  Samples samples;
  for (int i = 0; i < count; ++i) {
    std::promise<Clock::time_point> sent;
    std::promise<double> woke;
    auto waiter = std::thread([&] {
      const auto at = sent.get_future().get();
      woke.set_value(ms_since(at));
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    sent.set_value(Clock::now());
    samples.add(woke.get_future().get());
    waiter.join();
  }
  return samples;
}

}  // namespace vmm_bench
