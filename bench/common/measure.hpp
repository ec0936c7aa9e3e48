// bench/common: timing and the statistics every benchmark program reports.
#pragma once

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace vmm_bench {

using Clock = std::chrono::steady_clock;

inline double ms_between(Clock::time_point begin, Clock::time_point end) {
  return std::chrono::duration<double, std::milli>(end - begin).count();
}

inline double ms_since(Clock::time_point begin) { return ms_between(begin, Clock::now()); }

// Milliseconds that `f()` took.
template <typename F>
double time_ms(F&& f) {
  const auto begin = Clock::now();
  std::forward<F>(f)();
  return ms_since(begin);
}

// A set of measurements; median of an even count is the mean of the middle two.
struct Samples {
  std::vector<double> values;
  void add(double v) { values.push_back(v); }
  double median() const;
  double min() const;
  double max() const;
};

// "12.3 ms" with as many decimals as the size deserves.
std::string format_ms(double ms);

}  // namespace vmm_bench
