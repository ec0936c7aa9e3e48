// vmm vz: an IPv4 subnet in CIDR notation, parsed for vmnet (which takes address and mask).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "vmm/error.hpp"

namespace vmm::vz {

struct Ipv4Subnet {
  std::array<std::uint8_t, 4> address{};  // network address, host bits zero
  std::array<std::uint8_t, 4> mask{};
  // The first host address, which vmnet takes as the subnet's address (the host's gateway
  // side); given the network address itself, VZ fails at start with an internal network error.
  std::array<std::uint8_t, 4> first_host{};
  int prefix = 0;
  friend bool operator==(const Ipv4Subnet&, const Ipv4Subnet&) = default;
};

// "192.168.105.0/24". The prefix is 8..30 (a vmnet network needs room for a gateway, the host
// and guests) and the host bits must be zero; anything else is invalid_config quoting the text.
Result<Ipv4Subnet> parse_ipv4_subnet(std::string_view text);

}  // namespace vmm::vz
