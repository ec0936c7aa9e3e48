// bench/common: the benchmark programs' command lines. Every number is checked; an error names
// the flag and exits 2 with the program's usage.
#pragma once

#include <initializer_list>
#include <map>
#include <string>
#include <string_view>

namespace vmm_bench {

// `--flag value` pairs; `--help` prints `usage` and exits 0. Unknown flags, a flag without a
// value and repeated flags are errors. `known` lists the accepted flags.
std::map<std::string, std::string> parse_flags(int argc, char** argv, std::string_view program,
                                               std::string_view usage,
                                               std::initializer_list<std::string_view> known);

// A whole decimal number in [minimum, maximum], or an error naming `flag`.
int parse_count(std::string_view program, std::string_view usage, std::string_view flag,
                const std::string& value, int minimum, int maximum);

// Prints "PROGRAM: PROBLEM" and the usage to stderr, exits 2.
[[noreturn]] void usage_error(std::string_view program, std::string_view usage,
                              std::string_view problem);

}  // namespace vmm_bench
