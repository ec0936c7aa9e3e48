#include "vmm/size.hpp"

#include <array>
#include <cctype>
#include <string>

#include <fmt/format.h>

namespace vmm {
namespace {

struct Unit {
  std::string_view names[3];
  std::uint64_t factor;
};

constexpr std::array<Unit, 5> kUnits{{
    {{"b", "", ""}, 1},
    {{"k", "kb", "kib"}, 1ull << 10},
    {{"m", "mb", "mib"}, 1ull << 20},
    {{"g", "gb", "gib"}, 1ull << 30},
    {{"t", "tb", "tib"}, 1ull << 40},
}};

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool unit_factor(std::string_view unit, std::uint64_t& factor) {
  const std::string name = lower(unit);
  if (name.empty()) {
    factor = 1;
    return true;
  }
  for (const auto& u : kUnits) {
    for (auto candidate : u.names) {
      if (!candidate.empty() && candidate == name) {
        factor = u.factor;
        return true;
      }
    }
  }
  return false;
}

Unexpected parse_error(std::string_view text, std::string_view why) {
  return make_error(Errc::invalid_config,
                    fmt::format("size \"{}\": {} (expected e.g. \"512MiB\", \"2G\", \"1.5GiB\")",
                                text, why));
}

}  // namespace

Result<Size> Size::parse(std::string_view text) {
  std::size_t pos = 0;
  std::uint64_t whole = 0;
  std::size_t whole_digits = 0;
  while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
    const auto digit = static_cast<std::uint64_t>(text[pos] - '0');
    if (__builtin_mul_overflow(whole, 10u, &whole) || __builtin_add_overflow(whole, digit, &whole))
      return parse_error(text, "too large");
    ++pos;
    ++whole_digits;
  }
  // Fraction digits as an integer numerator over 10^digits, so that "1.5GiB" is exact.
  std::uint64_t frac = 0;
  std::uint64_t frac_scale = 1;
  std::size_t frac_digits = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      if (frac_digits == 9) return parse_error(text, "more than 9 decimal places");
      frac = frac * 10 + static_cast<std::uint64_t>(text[pos] - '0');
      frac_scale *= 10;
      ++pos;
      ++frac_digits;
    }
    if (frac_digits == 0) return parse_error(text, "a decimal point needs digits after it");
  }
  if (whole_digits == 0) return parse_error(text, "no number");
  std::size_t unit_start = pos;
  // One space may separate the number from a unit ("1 MiB"), but not end the text ("1 ").
  if (unit_start < text.size() && text[unit_start] == ' ') {
    ++unit_start;
    if (unit_start == text.size()) return parse_error(text, "a space must be followed by a unit");
  }
  std::uint64_t factor = 0;
  if (!unit_factor(text.substr(unit_start), factor))
    return parse_error(text, fmt::format("unknown unit \"{}\"", text.substr(unit_start)));

  std::uint64_t total = 0;
  if (__builtin_mul_overflow(whole, factor, &total)) return parse_error(text, "too large");
  if (frac != 0) {
    // frac/frac_scale * factor must be a whole number of bytes. The factor is a power of two:
    // cancelling twos first keeps frac * factor within 64 bits (frac < 10^9, at most 2^31 left).
    std::uint64_t scale = frac_scale;
    std::uint64_t f = factor;
    while (scale % 2 == 0 && f % 2 == 0) {
      scale /= 2;
      f /= 2;
    }
    std::uint64_t scaled = 0;
    if (__builtin_mul_overflow(frac, f, &scaled)) return parse_error(text, "too large");
    if (scaled % scale != 0) return parse_error(text, "not a whole number of bytes");
    if (__builtin_add_overflow(total, scaled / scale, &total)) return parse_error(text, "too large");
  }
  return Size::bytes(total);
}

std::string Size::to_string() const {
  static constexpr std::array<std::pair<std::uint64_t, std::string_view>, 4> units{{
      {1ull << 40, "TiB"}, {1ull << 30, "GiB"}, {1ull << 20, "MiB"}, {1ull << 10, "KiB"}}};
  if (bytes_ != 0) {
    for (const auto& [factor, name] : units) {
      if (bytes_ % factor == 0) return fmt::format("{}{}", bytes_ / factor, name);
    }
  }
  return fmt::format("{}B", bytes_);
}

}  // namespace vmm
