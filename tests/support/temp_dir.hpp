// Test support: a fresh private directory, removed with everything in it. The one temp-directory
// class of the test suite (every area aliases or extends it).
#pragma once

#include <filesystem>
#include <string_view>

namespace vmm::support {

class TempDir {
 public:
  // mkdtemp under the system temp directory; a failure fails the test (ADD_FAILURE) and
  // throws, so that nothing writes to an empty path.
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // Creates (or truncates) a regular file with `content`, creating parent directories.
  std::filesystem::path file(std::string_view name, std::string_view content = "x") const;
  // Creates a directory (and its parents).
  std::filesystem::path dir(std::string_view name) const;

 private:
  std::filesystem::path path_;
};

}  // namespace vmm::support
