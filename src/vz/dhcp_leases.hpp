// vmm internal (VZ backend, portable): macOS's DHCP server's lease file, /var/db/dhcpd_leases,
// where a NAT guest's address is found by its MAC (Virtualization.framework's NAT has no API
// for it; vfkit and crc read the same file).
//
// The file is a list of blocks, one per lease, of `key=value` lines:
//   {
//           name=debian
//           ip_address=192.168.64.3
//           hw_address=1,52:54:0:ab:c:1
//           identifier=1,52:54:0:ab:c:1
//           lease=0x6763c1d4
//   }
// hw_address is "<hardware type>,<address>" (type 1: Ethernet), and bootpd writes each octet
// without its leading zero ("0:c:29:..."). lease is the expiry time, seconds since the epoch,
// in hexadecimal. A MAC can have several leases (old ones linger): the latest expiry wins.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vmm/error.hpp"
#include "vmm/mac_address.hpp"

namespace vmm::vz {

struct DhcpLease {
  std::string name;                     // may be empty
  std::string ip_address;               // a dotted IPv4 address (checked)
  std::optional<MacAddress> hardware;   // absent: not Ethernet, or not readable as a MAC
  std::uint64_t expires = 0;            // seconds since the epoch; 0 when not given
};

// The leases in the file's text. A block without a readable ip_address is skipped (it cannot
// answer a lookup); the file's structure must hold: blocks open and close on lines of their own
// and every line inside is key=value. invalid_config naming the line otherwise.
Result<std::vector<DhcpLease>> parse_dhcp_leases(std::string_view text);

// A MAC as hw_address writes it, with or without leading zeros ("1:2:3:a:b:c" or
// "01:02:03:0a:0b:0c"); nullopt unless six groups of one or two hex digits.
std::optional<MacAddress> parse_lease_mac(std::string_view text);

// The address of the newest lease for `mac`, or nullopt.
std::optional<std::string> leased_address(const std::vector<DhcpLease>& leases,
                                          const MacAddress& mac);

// The file's default place on macOS.
inline constexpr const char* dhcp_leases_path = "/var/db/dhcpd_leases";

// The file's text; empty when it does not exist yet (macOS creates it with the first lease);
// io naming the path when it cannot be read.
Result<std::string> read_dhcp_leases(const std::filesystem::path& path);

// Where a lookup reads the leases from: the text of a dhcpd_leases file. The backend reads the
// real file (lease_file()); tests hand in their own.
struct LeaseSource {
  std::string name;                           // for messages, e.g. the path
  std::function<Result<std::string>()> read;  // the text; "" when there are no leases yet
};
LeaseSource lease_file(std::filesystem::path path = dhcp_leases_path);

// Reads the source and looks `mac` up: nullopt when there is no lease for the MAC; the read's
// error; the parser's error, prefixed with the source's name, when the text is malformed.
Result<std::optional<std::string>> lookup_leased_address(const LeaseSource& source,
                                                         const MacAddress& mac);
// The same on the file at `path`.
Result<std::optional<std::string>> lookup_leased_address(const std::filesystem::path& path,
                                                         const MacAddress& mac);

}  // namespace vmm::vz
