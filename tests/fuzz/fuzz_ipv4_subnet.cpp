// CIDR subnets: the config rule (detail::check_ipv4_subnet, run by build()) and the parser the VZ
// plan takes address, mask and first host from (detail::parse_ipv4_subnet).
// Properties: the rule accepts exactly what the parser parses; the parsed address, mask and
// first host agree with an independent reading of the text; refusals are invalid_config.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config_validation.hpp"
#include "fuzz_check.hpp"
#include "ipv4_subnet.hpp"

namespace {

// "a.b.c.d/p" read loosely (the rules themselves are what is under test): the numbers only.
bool numbers(std::string_view text, std::uint32_t& address, unsigned& prefix) {
  unsigned parts[5] = {};
  std::size_t part = 0;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      parts[part] = parts[part] * 10 + static_cast<unsigned>(c - '0');
      if (parts[part] > 100000) return false;
    } else if ((c == '.' && part < 3) || (c == '/' && part == 3)) {
      ++part;
    } else {
      return false;
    }
  }
  if (part != 4) return false;
  address = 0;
  for (int i = 0; i < 4; ++i) address = (address << 8) | (parts[i] & 0xFFu);
  prefix = parts[4];
  return true;
}

std::uint32_t join(const std::array<std::uint8_t, 4>& bytes) {
  return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
         (std::uint32_t{bytes[2]} << 8) | bytes[3];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto checked = vmm::detail::check_ipv4_subnet("subnet", text);
  const auto parsed = vmm::detail::parse_ipv4_subnet(text);
  if (!checked)
    FUZZ_CHECK(checked.error().code() == vmm::Errc::invalid_config, checked.error().to_string());
  if (!parsed)
    FUZZ_CHECK(parsed.error().code() == vmm::Errc::invalid_config, parsed.error().to_string());
  FUZZ_CHECK(checked.has_value() == parsed.has_value(),
             "the config rule and the parser disagree on: " + std::string(text));
  if (!parsed) return 0;
  std::uint32_t address = 0;
  unsigned prefix = 0;
  FUZZ_CHECK(numbers(text, address, prefix),
             "VZ accepted a malformed subnet: " + std::string(text));
  FUZZ_CHECK(parsed->prefix == static_cast<int>(prefix) && prefix >= 8 && prefix <= 30,
             std::string(text));
  const std::uint32_t mask = ~std::uint32_t{0} << (32 - prefix);
  FUZZ_CHECK(join(parsed->address) == address && (address & ~mask) == 0, std::string(text));
  FUZZ_CHECK(join(parsed->mask) == mask, std::string(text));
  FUZZ_CHECK(join(parsed->first_host) == address + 1, std::string(text));
  return 0;
}
