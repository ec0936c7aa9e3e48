// Helpers for the QEMU backend's unit tests: the shared temporary directory (tests/support) and
// argv queries.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "support/temp_dir.hpp"

namespace vmm::qemu::testing {

using ScratchDir = vmm::support::TempDir;

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
