#include "common/measure.hpp"

#include <fmt/format.h>

namespace vmm_bench {

double Samples::median() const {
  if (values.empty()) return 0;
  auto v = values;
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double Samples::min() const {
  return values.empty() ? 0 : *std::min_element(values.begin(), values.end());
}

double Samples::max() const {
  return values.empty() ? 0 : *std::max_element(values.begin(), values.end());
}

std::string format_ms(double ms) {
  if (ms >= 100) return fmt::format("{:.0f} ms", ms);
  if (ms >= 1) return fmt::format("{:.1f} ms", ms);
  return fmt::format("{:.3f} ms", ms);
}

}  // namespace vmm_bench
