// Helpers for the vfkit tests: parse a command line given as a list, and assert on errors.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "support/temp_dir.hpp"
#include "vmm/vfkit.hpp"

namespace vmm_test {

inline vmm::Result<vmm::vfkit::Invocation> parse(std::vector<std::string> args,
                                                 std::span<const vmm::vfkit::ExtraFlag> extras = {}) {
  return vmm::vfkit::parse_command_line(args, extras);
}

// Passes when `result` failed with `code` and a message containing every one of `parts`.
template <typename R>
testing::AssertionResult FailsWith(const R& result, vmm::Errc code,
                                   std::initializer_list<std::string_view> parts) {
  if (result.has_value()) return testing::AssertionFailure() << "succeeded";
  const auto& error = result.error();
  if (error.code() != code)
    return testing::AssertionFailure() << "code " << vmm::to_string(error.code()) << ": " << error.message();
  for (const auto part : parts)
    if (error.message().find(part) == std::string::npos)
      return testing::AssertionFailure() << "no \"" << part << "\" in: " << error.message();
  return testing::AssertionSuccess();
}

template <typename R>
testing::AssertionResult Ok(const R& result) {
  if (result.has_value()) return testing::AssertionSuccess();
  return testing::AssertionFailure() << result.error().to_string();
}

}  // namespace vmm_test
