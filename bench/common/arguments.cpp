#include "common/arguments.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>

namespace vmm_bench {

void usage_error(std::string_view program, std::string_view usage, std::string_view problem) {
  fmt::print(stderr, "{}: {}\nusage: {}\n", program, problem, usage);
  std::exit(2);
}

std::map<std::string, std::string> parse_flags(int argc, char** argv, std::string_view program,
                                               std::string_view usage,
                                               std::initializer_list<std::string_view> known) {
  std::map<std::string, std::string> flags;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      fmt::print("usage: {}\n", usage);
      std::exit(0);
    }
    if (std::find(known.begin(), known.end(), flag) == known.end()) {
      usage_error(program, usage, fmt::format("unknown flag {}", flag));
    }
    if (i + 1 >= argc) usage_error(program, usage, fmt::format("{} needs a value", flag));
    if (!flags.emplace(std::string(flag), argv[++i]).second) {
      usage_error(program, usage, fmt::format("{} is given twice", flag));
    }
  }
  return flags;
}

int parse_count(std::string_view program, std::string_view usage, std::string_view flag,
                const std::string& value, int minimum, int maximum) {
  int number = 0;
  const char* end = value.data() + value.size();
  const auto [ptr, ec] = std::from_chars(value.data(), end, number);
  if (value.empty() || ec != std::errc() || ptr != end || number < minimum || number > maximum) {
    usage_error(program, usage,
                fmt::format("{} takes a whole number from {} to {}, not \"{}\"", flag, minimum,
                            maximum, value));
  }
  return number;
}

}  // namespace vmm_bench
