// vmm: an Ethernet unicast MAC address.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
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

  // Byte-wise (lexicographic) order, written out: Apple's libc++ 16 (Xcode 15) has no
  // operator<=> for std::array, so a defaulted <=> over bytes_ would be silently deleted there.
  friend constexpr bool operator==(const MacAddress&, const MacAddress&) = default;
  friend constexpr std::strong_ordering operator<=>(const MacAddress& a, const MacAddress& b) {
    for (std::size_t i = 0; i < a.bytes_.size(); ++i) {
      if (a.bytes_[i] != b.bytes_[i]) return a.bytes_[i] <=> b.bytes_[i];
    }
    return std::strong_ordering::equal;
  }

 private:
  Bytes bytes_{};
};

}  // namespace vmm
