// vmm: a byte count with binary-unit constructors and a strict parser.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "vmm/error.hpp"

namespace vmm {

class Size {
 public:
  constexpr Size() = default;

  static constexpr Size bytes(std::uint64_t n) { return Size(n); }
  static constexpr Size kib(std::uint64_t n) { return Size(n << 10); }
  static constexpr Size mib(std::uint64_t n) { return Size(n << 20); }
  static constexpr Size gib(std::uint64_t n) { return Size(n << 30); }

  constexpr std::uint64_t as_bytes() const { return bytes_; }
  constexpr std::uint64_t as_mib() const { return bytes_ >> 20; }

  // Accepts a number (integer or decimal) followed by an optional unit: B, K/KB/KiB, M/MB/MiB,
  // G/GB/GiB, T/TB/TiB (all binary, case-insensitive), e.g. "512MiB", "2G", "1.5GiB", "4096".
  // A result that is not a whole number of bytes, overflows, or any other text is an
  // invalid_config error quoting the input.
  static Result<Size> parse(std::string_view text);

  // The largest exact binary unit: "1GiB", "1536MiB", "100B".
  std::string to_string() const;

  friend constexpr auto operator<=>(Size, Size) = default;

 private:
  constexpr explicit Size(std::uint64_t n) : bytes_(n) {}
  std::uint64_t bytes_ = 0;
};

}  // namespace vmm
