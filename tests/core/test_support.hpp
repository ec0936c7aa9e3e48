// Shared helpers for the core tests: a self-removing temp directory and an assertion that a
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

#include "vmm/devices.hpp"
#include "vmm/error.hpp"

namespace vmm_test {

namespace fs = std::filesystem;

// A fresh directory (mkdtemp under testing::TempDir()), removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::path(testing::TempDir()) / "vmm-core-XXXXXX").string();
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (::mkdtemp(buffer.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed for " << pattern;
      return;
    }
    path_ = buffer.data();
  }
  ~TempDir() {
    if (path_.empty()) return;
    std::error_code ec;
    // Give back any permissions a test took away so that remove_all can descend.
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const fs::path& path() const { return path_; }

  // Creates (or truncates) a regular file with `content`.
  fs::path file(const std::string& name, std::string_view content = "data") const {
    const auto p = path_ / name;
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    return p;
  }

  fs::path dir(const std::string& name) const {
    const auto p = path_ / name;
    fs::create_directories(p);
    return p;
  }

 private:
  fs::path path_;
};

// A disk image with every other field at its default.
inline vmm::DiskImage disk_at(const fs::path& path) {
  vmm::DiskImage disk;
  disk.path = path;
  return disk;
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
