// The CIDR subnet parser (detail::parse_ipv4_subnet) that both the config rule
// (check_ipv4_subnet, run by build()) and the VZ plan use, on arbitrary text.
// Properties: the config rule accepts exactly what the parser accepts; refusals are
// invalid_config; an accepted text is four octets without leading zeros, '/', a prefix of 8..30,
// and the parsed address, mask and first host agree with an independent reading of it.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/validation.hpp"
#include "fuzz_check.hpp"
#include "config/ipv4_subnet.hpp"

namespace {

// "a.b.c.d/p" read loosely (the rules themselves are what is under test): the numbers, and
// whether each octet is written the one canonical way.
bool numbers(std::string_view text, std::uint32_t& address, unsigned& prefix, bool& canonical) {
  std::string parts[5];
  std::size_t part = 0;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      if (parts[part].size() == 6) return false;
      parts[part] += c;
    } else if ((c == '.' && part < 3) || (c == '/' && part == 3)) {
      ++part;
    } else {
      return false;
    }
  }
  if (part != 4) return false;
  address = 0;
  canonical = true;
  for (int i = 0; i < 4; ++i) {
    if (parts[i].empty()) return false;
    const auto octet = static_cast<std::uint32_t>(std::stoul(parts[i]));
    canonical = canonical && std::to_string(octet) == parts[i];
    address = (address << 8) | (octet & 0xFFu);
  }
  if (parts[4].empty()) return false;
  prefix = static_cast<unsigned>(std::stoul(parts[4]));
  return true;
}

std::uint32_t join(const std::array<std::uint8_t, 4>& bytes) {
  return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
         (std::uint32_t{bytes[2]} << 8) | bytes[3];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string quoted(text);
  const auto checked = vmm::detail::check_ipv4_subnet("subnet", text);
  const auto parsed = vmm::detail::parse_ipv4_subnet(text);
  FUZZ_CHECK(checked.has_value() == parsed.has_value(), "the config rule and the parser disagree");
  if (!parsed) {
    FUZZ_CHECK(parsed.error().code() == vmm::Errc::invalid_config, parsed.error().to_string());
    return 0;
  }
  std::uint32_t address = 0;
  unsigned prefix = 0;
  bool canonical = false;
  FUZZ_CHECK(numbers(text, address, prefix, canonical), "accepted a malformed subnet: " + quoted);
  FUZZ_CHECK(canonical, "accepted an octet with a leading zero: " + quoted);
  FUZZ_CHECK(parsed->prefix == static_cast<int>(prefix) && prefix >= 8 && prefix <= 30, quoted);
  const std::uint32_t mask = ~std::uint32_t{0} << (32 - prefix);
  FUZZ_CHECK(join(parsed->address) == address && (address & ~mask) == 0, quoted);
  FUZZ_CHECK(join(parsed->mask) == mask, quoted);
  FUZZ_CHECK(join(parsed->first_host) == address + 1, quoted);
  return 0;
}
