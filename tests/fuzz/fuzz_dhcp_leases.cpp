// macOS's DHCP lease file reader (src/vz/dhcp_leases.hpp) on arbitrary text.
// Properties: never a crash or an exception; a refusal is invalid_config naming a line; every
// lease read has a valid IPv4 address; the lookup by a lease's MAC answers with the address of
// a lease of that MAC whose expiry is the newest; a MAC in either written form parses back.
#include <arpa/inet.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "vz/dhcp_leases.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto leases = vmm::vz::parse_dhcp_leases(text);
  if (!leases) {
    FUZZ_CHECK(leases.error().code() == vmm::Errc::invalid_config, leases.error().to_string());
    FUZZ_CHECK(leases.error().message().rfind("dhcpd_leases line ", 0) == 0,
               "error does not name a line: " + leases.error().message());
    return 0;
  }
  for (const auto& lease : *leases) {
    in_addr address{};
    FUZZ_CHECK(::inet_pton(AF_INET, lease.ip_address.c_str(), &address) == 1,
               "a lease without an IPv4 address: " + lease.ip_address);
    if (!lease.hardware) continue;
    const auto mac = *lease.hardware;
    const auto found = vmm::vz::leased_address(*leases, mac);
    FUZZ_CHECK(found.has_value(), "a lease's own MAC finds nothing");
    std::uint64_t newest = 0;
    for (const auto& other : *leases)
      if (other.hardware == mac && other.expires > newest) newest = other.expires;
    bool matches = false;
    for (const auto& other : *leases)
      matches = matches || (other.hardware == mac && other.expires == newest &&
                            other.ip_address == *found);
    FUZZ_CHECK(matches, "the lookup did not answer with the newest lease");
    // Both written forms of the MAC read back as the same address.
    FUZZ_CHECK(vmm::vz::parse_lease_mac(mac.to_string()) == mac, mac.to_string());
    std::string stripped;
    for (const auto byte : mac.bytes()) {
      if (!stripped.empty()) stripped += ':';
      const char* hex = "0123456789abcdef";
      if (byte >= 16) stripped += hex[byte >> 4];
      stripped += hex[byte & 15];
    }
    FUZZ_CHECK(vmm::vz::parse_lease_mac(stripped) == mac, stripped);
  }
  return 0;
}
