// Property checks for the fuzz harnesses. A broken property must abort (libFuzzer then saves
// the input as a crash artifact); assert() would vanish under NDEBUG.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

#define FUZZ_CHECK(condition, what)                                           \
  do {                                                                        \
    if (!(condition)) ::vmm_fuzz::fail(__FILE__, __LINE__, #condition, what); \
  } while (false)

namespace vmm_fuzz {

[[noreturn]] inline void fail(const char* file, int line, const char* condition,
                              std::string_view what) {
  std::fprintf(stderr, "%s:%d: property broken: %s\n  %.*s\n", file, line, condition,
               static_cast<int>(what.size()), what.data());
  std::abort();
}

}  // namespace vmm_fuzz
