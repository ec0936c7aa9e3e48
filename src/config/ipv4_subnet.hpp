// vmm internal: an IPv4 subnet in CIDR notation ("192.168.105.0/24"), as vmnet networks take it.
// The one parser behind both the config rule (networks[i].subnet) and the VZ plan.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "vmm/error.hpp"

namespace vmm::detail {

struct Ipv4Subnet {
  std::array<std::uint8_t, 4> address{};  // network address, host bits zero
  std::array<std::uint8_t, 4> mask{};
  // The first host address, which vmnet takes as the subnet's address (the host's gateway
  // side); given the network address itself, VZ fails at start with an internal network error.
  std::array<std::uint8_t, 4> first_host{};
  int prefix = 0;
  friend bool operator==(const Ipv4Subnet&, const Ipv4Subnet&) = default;
};

// Four decimal octets (no leading zeros: "010" means 8 to some tools and 10 to others), '/', a
// prefix of 8..30 (a shared network needs room for a gateway and guests), no host bits set.
// Anything else is invalid_config quoting the text and saying what is wrong.
Result<Ipv4Subnet> parse_ipv4_subnet(std::string_view text);

}  // namespace vmm::detail
