// Size::parse on arbitrary text, checked against an independent reading of the documented
// grammar (a number with at most 9 decimal places, then an optional binary unit in any case,
// optionally after one space) evaluated in 128-bit arithmetic: both must accept the same texts
// with the same value. On success, parse(to_string()) gives the value back.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "vmm/size.hpp"

namespace {

using u128 = unsigned __int128;

std::optional<u128> unit_factor(std::string_view unit) {
  std::string name;
  for (char c : unit) name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (name.empty() || name == "b") return 1;
  const std::string_view prefixes = "kmgt";
  const auto at = name.empty() ? std::string_view::npos : prefixes.find(name[0]);
  if (at == std::string_view::npos) return std::nullopt;
  if (name.size() == 1 || name.substr(1) == "b" || name.substr(1) == "ib")
    return u128{1} << (10 * (at + 1));
  return std::nullopt;
}

// The exact value the text names, if it is a whole number of bytes below 2^64.
std::optional<std::uint64_t> reference(std::string_view text) {
  const u128 limit = u128{1} << 64;
  std::size_t pos = 0;
  u128 whole = 0;
  while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
    whole = whole * 10 + static_cast<unsigned>(text[pos] - '0');
    if (whole >= limit) return std::nullopt;
    ++pos;
  }
  if (pos == 0) return std::nullopt;
  u128 frac = 0;
  u128 scale = 1;
  if (pos < text.size() && text[pos] == '.') {
    const auto start = ++pos;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      frac = frac * 10 + static_cast<unsigned>(text[pos] - '0');
      scale *= 10;
      ++pos;
    }
    if (pos == start || pos - start > 9) return std::nullopt;
  }
  // One space may separate the number from a unit, but not end the text ("1 " is an error).
  if (pos < text.size() && text[pos] == ' ' && ++pos == text.size()) return std::nullopt;
  const auto factor = unit_factor(text.substr(pos));
  if (!factor) return std::nullopt;
  if ((frac * *factor) % scale != 0) return std::nullopt;
  const u128 total = whole * *factor + frac * *factor / scale;
  if (total >= limit) return std::nullopt;
  return static_cast<std::uint64_t>(total);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = vmm::Size::parse(text);
  const auto expected = reference(text);
  if (!parsed) {
    FUZZ_CHECK(parsed.error().code() == vmm::Errc::invalid_config, parsed.error().to_string());
    FUZZ_CHECK(!expected, "rejected a size the grammar allows: " + parsed.error().message());
    return 0;
  }
  const auto value = *parsed;
  const auto spelled = value.to_string();
  FUZZ_CHECK(expected.has_value(), "accepted text outside the grammar, read as " + spelled);
  FUZZ_CHECK(*expected == value.as_bytes(), "read as " + std::to_string(value.as_bytes()) +
                                                ", expected " + std::to_string(*expected));
  const auto again = vmm::Size::parse(spelled);
  FUZZ_CHECK(again.has_value() && *again == value, spelled);
  return 0;
}
