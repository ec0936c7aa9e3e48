#include "vmm/mac_address.hpp"

#include <fmt/format.h>

#include "runtime/random_bytes.hpp"

namespace vmm {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<MacAddress> MacAddress::parse(std::string_view text) {
  // "aa:bb:cc:dd:ee:ff": 17 characters, colons at every third position.
  auto malformed = [&] {
    return make_error(Errc::invalid_config,
                      fmt::format("MAC address \"{}\" is malformed (expected aa:bb:cc:dd:ee:ff)",
                                  text));
  };
  if (text.size() != 17) return malformed();
  Bytes bytes{};
  for (std::size_t i = 0; i < 6; ++i) {
    const std::size_t at = i * 3;
    const int hi = hex_value(text[at]);
    const int lo = hex_value(text[at + 1]);
    if (hi < 0 || lo < 0) return malformed();
    if (i < 5 && text[at + 2] != ':') return malformed();
    bytes[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  const MacAddress mac(bytes);
  if (mac.is_multicast())
    return make_error(Errc::invalid_config,
                      fmt::format("MAC address {} is a multicast address; a NIC needs unicast",
                                  mac.to_string()));
  if (mac == MacAddress())
    return make_error(Errc::invalid_config, "MAC address 00:00:00:00:00:00 is not usable");
  return mac;
}

MacAddress MacAddress::random_local() {
  Bytes bytes{};
  detail::fill_random(bytes);
  // Locally administered (bit 1 set), unicast (bit 0 clear).
  bytes[0] = static_cast<std::uint8_t>((bytes[0] & 0xFCu) | 0x02u);
  return MacAddress(bytes);
}

std::string MacAddress::to_string() const {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", bytes_[0], bytes_[1], bytes_[2],
                     bytes_[3], bytes_[4], bytes_[5]);
}

}  // namespace vmm
