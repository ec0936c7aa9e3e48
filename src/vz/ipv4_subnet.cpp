#include "vz/ipv4_subnet.hpp"

#include <charconv>
#include <string>

namespace vmm::vz {
namespace {

// Parses a decimal number of 1 to 3 digits (no sign, no leading '+'), advancing `text`.
bool take_number(std::string_view& text, unsigned& out) {
  std::size_t digits = 0;
  while (digits < text.size() && digits < 4 && text[digits] >= '0' && text[digits] <= '9') {
    ++digits;
  }
  if (digits == 0 || digits > 3) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + digits, out);
  if (ec != std::errc() || end != text.data() + digits) return false;
  text.remove_prefix(digits);
  return true;
}

Unexpected bad(std::string_view text, std::string_view why) {
  return make_error(Errc::invalid_config, "vmnet subnet \"" + std::string(text) + "\": " +
                                              std::string(why));
}

}  // namespace

Result<Ipv4Subnet> parse_ipv4_subnet(std::string_view text) {
  Ipv4Subnet subnet;
  std::string_view rest = text;
  for (std::size_t i = 0; i < 4; ++i) {
    unsigned octet = 0;
    if (!take_number(rest, octet) || octet > 255) {
      return bad(text, "expected an IPv4 address such as 192.168.105.0/24");
    }
    subnet.address[i] = static_cast<std::uint8_t>(octet);
    const char separator = i < 3 ? '.' : '/';
    if (rest.empty() || rest.front() != separator) {
      return bad(text, "expected an IPv4 address such as 192.168.105.0/24");
    }
    rest.remove_prefix(1);
  }
  unsigned prefix = 0;
  if (!take_number(rest, prefix) || !rest.empty()) {
    return bad(text, "expected a prefix length after '/'");
  }
  if (prefix < 8 || prefix > 30) return bad(text, "the prefix length must be 8 to 30");
  subnet.prefix = static_cast<int>(prefix);

  const std::uint32_t mask = ~std::uint32_t{0} << (32U - prefix);
  std::uint32_t address = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    subnet.mask[i] = static_cast<std::uint8_t>(mask >> (24U - 8U * i));
    address = (address << 8U) | subnet.address[i];
  }
  if ((address & ~mask) != 0) {
    return bad(text, "host bits are set; give the network address");
  }
  const std::uint32_t first_host = address + 1;
  for (std::size_t i = 0; i < 4; ++i) {
    subnet.first_host[i] = static_cast<std::uint8_t>(first_host >> (24U - 8U * i));
  }
  return subnet;
}

}  // namespace vmm::vz
