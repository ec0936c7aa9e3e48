// vmm: an Ethernet unicast MAC address.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "vmm/error.hpp"

namespace vmm {

class MacAddress {
 public:
  using Bytes = std::array<std::uint8_t, 6>;

  constexpr MacAddress() = default;
  constexpr explicit MacAddress(const Bytes& bytes) : bytes_(bytes) {}

  // Exactly six two-digit hex groups separated by ':' (either case), e.g. "52:54:00:12:34:56".
  // Multicast (low bit of the first octet set) and all-zero addresses are rejected: a NIC
  // cannot use them.
  static Result<MacAddress> parse(std::string_view text);

  // A random locally administered unicast address (first octet xxxxxx10), from a CSPRNG-seeded
  // generator, so that two processes started together do not collide.
  static MacAddress random_local();

  const Bytes& bytes() const { return bytes_; }
  bool is_multicast() const { return (bytes_[0] & 0x01) != 0; }
  bool is_locally_administered() const { return (bytes_[0] & 0x02) != 0; }

  // Lower-case "aa:bb:cc:dd:ee:ff".
  std::string to_string() const;

  friend constexpr auto operator<=>(const MacAddress&, const MacAddress&) = default;

 private:
  Bytes bytes_{};
};

}  // namespace vmm
