// Helpers for the config tests: the shared temp directory (tests/support) and an assertion that a
// Result failed with invalid_config naming a field and a value.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "support/temp_dir.hpp"
#include "vmm/devices.hpp"
#include "vmm/error.hpp"
#include "vmm/mac_address.hpp"

namespace vmm_test {

namespace fs = std::filesystem;

using TempDir = vmm::support::TempDir;

// Two distinct unicast MACs, for the tests that give networks their addresses.
inline const vmm::MacAddress kMacA({0x52, 0x54, 0x00, 0x00, 0x00, 0x01});
inline const vmm::MacAddress kMacB({0x52, 0x54, 0x00, 0x00, 0x00, 0x02});

// A disk image with every other field at its default.
inline vmm::DiskImage disk_at(const fs::path& path) {
  vmm::DiskImage disk;
  disk.path = path;
  return disk;
}

// to_json() is indented; the config tests' documents have no blanks inside strings, so dropping
// blanks and newlines gives the compact form their searches are written in (from_json reads both).
inline std::string compact(const std::string& text) {
  std::string out;
  for (const char c : text)
    if (c != ' ' && c != '\n') out += c;
  return out;
}

inline bool running_as_root() { return ::geteuid() == 0; }

// Passes when `result` failed with invalid_config and a message that starts with "<field>: " and
// contains `value`.
template <typename R>
testing::AssertionResult IsInvalid(const R& result, std::string_view field, std::string_view value) {
  if (result.has_value()) return testing::AssertionFailure() << "succeeded; expected an error on " << field;
  const auto& error = result.error();
  const std::string prefix = std::string(field) + ": ";
  if (error.code() != vmm::Errc::invalid_config)
    return testing::AssertionFailure() << "code is " << vmm::to_string(error.code()) << ": "
                                       << error.message();
  if (error.message().rfind(prefix, 0) != 0)
    return testing::AssertionFailure() << "message does not start with \"" << prefix
                                       << "\": " << error.message();
  if (error.message().find(value) == std::string::npos)
    return testing::AssertionFailure() << "message does not contain \"" << value
                                       << "\": " << error.message();
  return testing::AssertionSuccess();
}

// Passes when `result` succeeded, printing the error otherwise.
template <typename R>
testing::AssertionResult IsOk(const R& result) {
  if (result.has_value()) return testing::AssertionSuccess();
  return testing::AssertionFailure() << result.error().to_string();
}

}  // namespace vmm_test
