// Test support: waiting without hanging. The timeouts are generous (guests boot under TCG on a
// shared machine); they exist only so that a bug fails a test instead of hanging it, and nothing
// here measures time.
#pragma once

#include <chrono>
#include <future>
#include <thread>

#include "vmm/error.hpp"

namespace vmm::support {

inline constexpr auto kTimeout = std::chrono::seconds(30);

// Polls `condition` until it holds or `timeout` passes; true when it held.
template <typename Condition>
bool wait_until(Condition condition, std::chrono::milliseconds timeout = kTimeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// A future's result, or a `timeout` error instead of hanging the test.
template <typename T>
Result<T> await(std::future<Result<T>> future, std::chrono::milliseconds timeout = kTimeout) {
  if (future.wait_for(timeout) != std::future_status::ready) {
    return make_error(Errc::timeout, "test: the operation never completed");
  }
  return future.get();
}

}  // namespace vmm::support
