#include "config/ipv4_subnet.hpp"

#include <fmt/format.h>

namespace vmm::detail {

Result<Ipv4Subnet> parse_ipv4_subnet(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return make_error(Errc::invalid_config,
                      fmt::format("\"{}\" is not an IPv4 subnet in CIDR form like "
                                  "192.168.105.0/24: {}", text, why));
  };
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return bad("no prefix length");
  Ipv4Subnet subnet;
  std::uint32_t address = 0;
  std::string_view rest = text.substr(0, slash);
  for (std::size_t octet = 0; octet < 4; ++octet) {
    const auto dot = rest.find('.');
    const auto part = octet < 3 ? rest.substr(0, dot) : rest;
    if ((octet < 3 && dot == std::string_view::npos) || part.empty() || part.size() > 3)
      return bad("malformed address");
    unsigned value = 0;
    for (char c : part) {
      if (c < '0' || c > '9') return bad("malformed address");
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (part.size() > 1 && part[0] == '0') return bad("an octet has a leading zero");
    if (value > 255) return bad("an octet is above 255");
    subnet.address[octet] = static_cast<std::uint8_t>(value);
    address = (address << 8) | value;
    if (octet < 3) rest = rest.substr(dot + 1);
  }
  const auto prefix_text = text.substr(slash + 1);
  if (prefix_text.empty() || prefix_text.size() > 2) return bad("malformed prefix length");
  unsigned prefix = 0;
  for (char c : prefix_text) {
    if (c < '0' || c > '9') return bad("malformed prefix length");
    prefix = prefix * 10 + static_cast<unsigned>(c - '0');
  }
  if (prefix < 8 || prefix > 30) return bad("the prefix length must be between 8 and 30");
  subnet.prefix = static_cast<int>(prefix);
  const std::uint32_t mask = ~std::uint32_t{0} << (32U - prefix);
  if ((address & ~mask) != 0) return bad("host bits are set; give the network address");
  const std::uint32_t first_host = address + 1;
  for (std::size_t i = 0; i < 4; ++i) {
    subnet.mask[i] = static_cast<std::uint8_t>(mask >> (24U - 8U * i));
    subnet.first_host[i] = static_cast<std::uint8_t>(first_host >> (24U - 8U * i));
  }
  return subnet;
}

}  // namespace vmm::detail
