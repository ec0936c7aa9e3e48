// bench/common: how a benchmark gives up. Every wait is bounded; a failure throws Failure with
// what failed, and main() prints it and exits 1 (destructors stop QEMU and remove files first).
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace vmm_bench {

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Failure(fmt::format(format, std::forward<Args>(args)...));
}

// strerror(errno), for messages.
std::string errno_text();

}  // namespace vmm_bench
