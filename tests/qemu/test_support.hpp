// Helpers for the QEMU backend's unit tests: a temporary directory with files a VmConfig can
// point at, and argv queries.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace vmm::qemu::testing {

class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "vmm-qemu-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path file(std::string_view name, std::string_view content = "x") const {
    const auto p = path_ / name;
    std::ofstream(p) << content;
    return p;
  }
  std::filesystem::path dir(std::string_view name) const {
    const auto p = path_ / name;
    std::filesystem::create_directories(p);
    return p;
  }

 private:
  std::filesystem::path path_;
};

// Every value following `flag` in argv, in order.
inline std::vector<std::string> values_of(const std::vector<std::string>& argv,
                                          std::string_view flag) {
  std::vector<std::string> values;
  for (std::size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == flag) values.push_back(argv[i + 1]);
  }
  return values;
}

inline bool has_flag(const std::vector<std::string>& argv, std::string_view flag) {
  for (const auto& arg : argv) {
    if (arg == flag) return true;
  }
  return false;
}

}  // namespace vmm::qemu::testing
