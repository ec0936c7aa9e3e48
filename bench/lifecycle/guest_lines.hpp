// bench/lifecycle: what the guest prints, as both sides see it. The test guest prints
// "VMM-GUEST-READY", then "VMM-COUNTER n" every 200 ms.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/failure.hpp"
#include "common/measure.hpp"

namespace lifecycle {

using vmm_bench::Clock;
using vmm_bench::fail;

class GuestLines {
 public:
  void reset() {
    std::lock_guard lock(mutex_);
    ready_at_.reset();
    counter_ = -1;
  }
  void on_line(std::string_view line, Clock::time_point at) {
    std::lock_guard lock(mutex_);
    if (line == "VMM-GUEST-READY" && !ready_at_) ready_at_ = at;
    constexpr std::string_view prefix = "VMM-COUNTER ";
    if (line.substr(0, prefix.size()) == prefix) {
      counter_ = std::strtol(std::string(line.substr(prefix.size())).c_str(), nullptr, 10);
    }
    changed_.notify_all();
  }
  Clock::time_point wait_ready(std::chrono::seconds timeout, std::string_view who) {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, timeout, [&] { return ready_at_.has_value(); })) {
      fail("{}: the guest printed no VMM-GUEST-READY within {} s", who, timeout.count());
    }
    return *ready_at_;
  }
  long wait_counter_above(long after, std::chrono::seconds timeout, std::string_view who) {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, timeout, [&] { return counter_ > after; })) {
      fail("{}: the guest printed no VMM-COUNTER above {} within {} s", who, after,
           timeout.count());
    }
    return counter_;
  }
  long counter() {
    std::lock_guard lock(mutex_);
    return counter_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<Clock::time_point> ready_at_;
  long counter_ = -1;
};

}  // namespace lifecycle
