// macOS's /var/db/dhcpd_leases (src/vz/dhcp_leases.hpp): leases read from bootpd's own format,
// MACs with and without leading zeros, the newest lease of a MAC, and structural errors that
// name their line.
#include "vz/dhcp_leases.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "support/temp_dir.hpp"

namespace vmm::vz {
namespace {

using ::testing::HasSubstr;

MacAddress mac(std::string_view text) { return *MacAddress::parse(text); }
// 01:02:03:0a:0b:0c, written out: MacAddress::parse refuses it (a multicast address), but a
// lease file may hold any six octets.
const MacAddress kOddMac(MacAddress::Bytes{0x01, 0x02, 0x03, 0x0a, 0x0b, 0x0c});

constexpr std::string_view kLeases =
    "{\n"
    "\tname=debian\n"
    "\tip_address=192.168.64.3\n"
    "\thw_address=1,52:54:0:ab:c:1\n"
    "\tidentifier=1,52:54:0:ab:c:1\n"
    "\tlease=0x6763c1d4\n"
    "}\n"
    "{\n"
    "\tname=old\n"
    "\tip_address=192.168.64.2\n"
    "\thw_address=1,52:54:0:ab:c:1\n"
    "\tidentifier=1,52:54:0:ab:c:1\n"
    "\tlease=0x6763a000\n"
    "}\n"
    "{\n"
    "\tname=other\n"
    "\tip_address=192.168.64.4\n"
    "\thw_address=1,a:b:c:d:e:f\n"
    "\tlease=0x67000000\n"
    "}\n";

TEST(VzDhcpLeases, ReadsEveryLeaseOfBootpdsFormat) {
  auto leases = parse_dhcp_leases(kLeases);
  ASSERT_TRUE(leases) << leases.error().to_string();
  ASSERT_EQ(leases->size(), 3U);
  EXPECT_EQ((*leases)[0].name, "debian");
  EXPECT_EQ((*leases)[0].ip_address, "192.168.64.3");
  EXPECT_EQ((*leases)[0].hardware, mac("52:54:00:ab:0c:01"));
  EXPECT_EQ((*leases)[0].expires, 0x6763c1d4U);
  EXPECT_EQ((*leases)[2].hardware, mac("0a:0b:0c:0d:0e:0f"));
}

TEST(VzDhcpLeases, TheNewestLeaseOfAMacWins) {
  auto leases = parse_dhcp_leases(kLeases);
  ASSERT_TRUE(leases);
  EXPECT_EQ(leased_address(*leases, mac("52:54:00:ab:0c:01")), "192.168.64.3");
  EXPECT_EQ(leased_address(*leases, mac("0a:0b:0c:0d:0e:0f")), "192.168.64.4");
  EXPECT_EQ(leased_address(*leases, mac("52:54:00:ab:0c:02")), std::nullopt);
}

TEST(VzDhcpLeases, MacsWithAndWithoutLeadingZeros) {
  EXPECT_EQ(parse_lease_mac("1:2:3:a:b:c"), kOddMac);
  EXPECT_EQ(parse_lease_mac("01:02:03:0A:0B:0C"), kOddMac);
  EXPECT_EQ(parse_lease_mac("0:0:0:0:0:0"), MacAddress{});
  EXPECT_EQ(parse_lease_mac("1:2:3:a:b"), std::nullopt);
  EXPECT_EQ(parse_lease_mac("1:2:3:a:b:c:d"), std::nullopt);
  EXPECT_EQ(parse_lease_mac("1:2:3:a:b:"), std::nullopt);
  EXPECT_EQ(parse_lease_mac("1:2:3:a:b:100"), std::nullopt);
  EXPECT_EQ(parse_lease_mac("1:2:3:a:b:g"), std::nullopt);
  EXPECT_EQ(parse_lease_mac(""), std::nullopt);
}

TEST(VzDhcpLeases, LeasesWithoutAUsableAddressOrMacAreNotAnswers) {
  auto leases = parse_dhcp_leases(
      "{\n ip_address=not-an-ip\n hw_address=1,1:2:3:4:5:6\n}\n"
      "{\n ip_address=10.0.0.9\n hw_address=6,1:2:3:4:5:6\n}\n"
      "{\n ip_address=10.0.0.8\n hw_address=1,1:2:3:4:5\n lease=zz\n}\n");
  ASSERT_TRUE(leases) << leases.error().to_string();
  ASSERT_EQ(leases->size(), 2U);  // the first has no IPv4 address
  EXPECT_EQ((*leases)[0].hardware, std::nullopt);  // type 6 is not Ethernet
  EXPECT_EQ((*leases)[1].hardware, std::nullopt);  // five octets
  EXPECT_EQ((*leases)[1].expires, 0U);
  EXPECT_EQ(leased_address(*leases, MacAddress(MacAddress::Bytes{1, 2, 3, 4, 5, 6})), std::nullopt);
}

TEST(VzDhcpLeases, AnEmptyFileHasNoLeases) {
  auto leases = parse_dhcp_leases("");
  ASSERT_TRUE(leases);
  EXPECT_TRUE(leases->empty());
}

TEST(VzDhcpLeases, StructuralErrorsNameTheirLine) {
  const auto error = [](std::string_view text) {
    auto leases = parse_dhcp_leases(text);
    EXPECT_FALSE(leases) << text;
    if (leases) return std::string{};
    EXPECT_EQ(leases.error().code(), Errc::invalid_config);
    return leases.error().message();
  };
  EXPECT_THAT(error("{\n ip_address=1.2.3.4\n"), HasSubstr("line 1: a block is not closed"));
  EXPECT_THAT(error("}\n"), HasSubstr("line 1: a block closes"));
  EXPECT_THAT(error("{\n{\n}\n"), HasSubstr("line 2: a block opens inside the block of line 1"));
  EXPECT_THAT(error("name=x\n"), HasSubstr("line 1: text outside a lease block"));
  EXPECT_THAT(error("{\n\n garbage\n}\n"), HasSubstr("line 3: expected key=value"));
  EXPECT_THAT(error("{\n =x\n}\n"), HasSubstr("line 2: expected key=value"));
}

TEST(VzDhcpLeases, LookupReadsTheFileAndAMissingFileHasNoLease) {
  support::TempDir dir;
  const auto path = dir.path() / "dhcpd_leases";
  auto missing = lookup_leased_address(path, mac("52:54:00:ab:0c:01"));
  ASSERT_TRUE(missing) << missing.error().to_string();
  EXPECT_EQ(*missing, std::nullopt);
  std::ofstream(path) << kLeases;
  auto found = lookup_leased_address(path, mac("52:54:00:ab:0c:01"));
  ASSERT_TRUE(found) << found.error().to_string();
  EXPECT_EQ(*found, "192.168.64.3");
  std::ofstream(path) << "{\n";
  auto broken = lookup_leased_address(path, mac("52:54:00:ab:0c:01"));
  ASSERT_FALSE(broken);
  EXPECT_THAT(broken.error().message(), HasSubstr(path.string() + ": dhcpd_leases line 1"));
}

// The forwarder's seam: any source of text, its name in the parser's errors, its own errors
// passed on as they are.
TEST(VzDhcpLeases, ALeaseSourceIsReadAndNamedInErrors) {
  std::string text(kLeases);
  const LeaseSource fake{"fake leases", [&]() -> Result<std::string> { return text; }};
  auto found = lookup_leased_address(fake, mac("52:54:00:ab:0c:01"));
  ASSERT_TRUE(found) << found.error().to_string();
  EXPECT_EQ(*found, "192.168.64.3");
  text = "{\n";
  auto broken = lookup_leased_address(fake, mac("52:54:00:ab:0c:01"));
  ASSERT_FALSE(broken);
  EXPECT_THAT(broken.error().message(), HasSubstr("fake leases: dhcpd_leases line 1"));
  const LeaseSource unreadable{"x", []() -> Result<std::string> {
                                 return make_error(Errc::io, "cannot read x");
                               }};
  auto failed = lookup_leased_address(unreadable, mac("52:54:00:ab:0c:01"));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error(), Error(Errc::io, "cannot read x"));
}

}  // namespace
}  // namespace vmm::vz
