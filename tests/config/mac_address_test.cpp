// MacAddress: the strict parser, to_string, and random_local().
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <compare>
#include <set>
#include <string>
#include <type_traits>

#include "config/test_support.hpp"
#include "vmm/mac_address.hpp"

namespace {

using testing::HasSubstr;
using vmm::MacAddress;

TEST(MacAddressTest, ParsesLowerUpperAndMixedCase) {
  const MacAddress expected({0x52, 0x54, 0x00, 0xab, 0xcd, 0xef});
  for (const std::string text : {"52:54:00:ab:cd:ef", "52:54:00:AB:CD:EF", "52:54:00:aB:Cd:eF"}) {
    const auto mac = MacAddress::parse(text);
    ASSERT_TRUE(vmm_test::IsOk(mac)) << text;
    EXPECT_EQ(*mac, expected) << text;
  }
}

TEST(MacAddressTest, ParsesEveryByte) {
  const auto mac = MacAddress::parse("02:13:24:35:46:f7");
  ASSERT_TRUE(vmm_test::IsOk(mac));
  EXPECT_EQ(mac->bytes(), (MacAddress::Bytes{0x02, 0x13, 0x24, 0x35, 0x46, 0xf7}));
}

TEST(MacAddressTest, ToStringIsLowerCaseAndRoundTrips) {
  const MacAddress mac({0x52, 0x54, 0x00, 0xAB, 0x0C, 0xEF});
  EXPECT_EQ(mac.to_string(), "52:54:00:ab:0c:ef");
  const auto parsed = MacAddress::parse(mac.to_string());
  ASSERT_TRUE(vmm_test::IsOk(parsed));
  EXPECT_EQ(*parsed, mac);
}

TEST(MacAddressTest, RejectsEveryMalformedShape) {
  using namespace std::string_literals;
  for (const std::string& text : {
           ""s,
           "52:54:00:12:34"s,           // five groups
           "52:54:00:12:34:5"s,         // short last group
           "52:54:00:12:34:567"s,       // long last group
           "52:54:00:12:34:56:"s,       // trailing separator
           "52:54:00:12:34:56:78"s,     // seven groups
           "52:54:00:12:34:56 "s,       // trailing space
           " 52:54:00:12:34:56"s,       // leading space
           "52-54-00-12-34-56"s,        // wrong separator
           "52.54.00.12.34.56"s,        // wrong separator
           "52:54:00-12:34:56"s,        // one wrong separator
           "525400123456"s,             // no separators
           "5254.0012.3456"s,           // Cisco style
           "52:54:0:112:34:56"s,        // 17 characters, misplaced colon
           "52:54:00:12:34:5g"s,        // non-hex
           "g2:54:00:12:34:56"s,        // non-hex
           "52:54:00:1 :34:56"s,        // space inside a group
           "0x:54:00:12:34:56"s,        // prefix
           "52:54:00:12:3\0:56"s,       // embedded NUL, 17 characters
       }) {
    const auto mac = MacAddress::parse(text);
    ASSERT_FALSE(mac) << "\"" << text << "\" parsed as " << mac->to_string();
    EXPECT_EQ(mac.error().code(), vmm::Errc::invalid_config) << text;
    EXPECT_THAT(mac.error().message(), HasSubstr("\"" + text + "\"")) << text;
    EXPECT_THAT(mac.error().message(), HasSubstr("malformed")) << text;
  }
}

TEST(MacAddressTest, RejectsMulticast) {
  for (const std::string text : {"01:00:5e:00:00:01", "33:33:00:00:00:01", "ff:ff:ff:ff:ff:ff",
                                 "03:00:00:00:00:01"}) {
    const auto mac = MacAddress::parse(text);
    ASSERT_FALSE(mac) << text;
    EXPECT_EQ(mac.error().code(), vmm::Errc::invalid_config);
    EXPECT_THAT(mac.error().message(), HasSubstr(text));
    EXPECT_THAT(mac.error().message(), HasSubstr("multicast"));
  }
  // Upper-case input is reported in the canonical lower-case form.
  const auto upper = MacAddress::parse("FF:FF:FF:FF:FF:FF");
  ASSERT_FALSE(upper);
  EXPECT_THAT(upper.error().message(), HasSubstr("ff:ff:ff:ff:ff:ff"));
}

TEST(MacAddressTest, RejectsAllZero) {
  const auto mac = MacAddress::parse("00:00:00:00:00:00");
  ASSERT_FALSE(mac);
  EXPECT_EQ(mac.error().code(), vmm::Errc::invalid_config);
  EXPECT_THAT(mac.error().message(), HasSubstr("00:00:00:00:00:00"));
  EXPECT_THAT(mac.error().message(), HasSubstr("not usable"));
}

TEST(MacAddressTest, AcceptsUnicastNextToTheRejectedOnes) {
  EXPECT_TRUE(vmm_test::IsOk(MacAddress::parse("00:00:00:00:00:01")));
  EXPECT_TRUE(vmm_test::IsOk(MacAddress::parse("02:00:00:00:00:00")));
  EXPECT_TRUE(vmm_test::IsOk(MacAddress::parse("fe:ff:ff:ff:ff:ff")));
}

TEST(MacAddressTest, BitPredicates) {
  EXPECT_TRUE(MacAddress({0x01, 0, 0, 0, 0, 0}).is_multicast());
  EXPECT_FALSE(MacAddress({0x01, 0, 0, 0, 0, 0}).is_locally_administered());
  EXPECT_TRUE(MacAddress({0x02, 0, 0, 0, 0, 0}).is_locally_administered());
  EXPECT_FALSE(MacAddress({0x02, 0, 0, 0, 0, 0}).is_multicast());
  EXPECT_FALSE(MacAddress({0x00, 0x1c, 0x42, 0, 0, 1}).is_locally_administered());  // a vendor OUI
  EXPECT_TRUE(MacAddress({0x52, 0x54, 0, 0, 0, 1}).is_locally_administered());   // QEMU's 52:54:00
  EXPECT_TRUE(MacAddress({0x03, 0, 0, 0, 0, 0}).is_multicast());
  EXPECT_TRUE(MacAddress({0x03, 0, 0, 0, 0, 0}).is_locally_administered());
}

TEST(MacAddressTest, DefaultIsAllZero) {
  EXPECT_EQ(MacAddress().bytes(), (MacAddress::Bytes{0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(MacAddress().to_string(), "00:00:00:00:00:00");
}

TEST(MacAddressTest, OrdersByBytes) {
  EXPECT_LT(MacAddress({0x02, 0, 0, 0, 0, 0xff}), MacAddress({0x02, 0, 0, 0, 1, 0}));
  EXPECT_LT(MacAddress({0x02, 0xff, 0, 0, 0, 0}), MacAddress({0x52, 0, 0, 0, 0, 0}));
  EXPECT_EQ(MacAddress({1, 2, 3, 4, 5, 6}), MacAddress({1, 2, 3, 4, 5, 6}));
}

// The hand-written <=> (libc++ 16 has none for std::array): a strong, lexicographic order
// usable at compile time, consistent with ==.
TEST(MacAddressTest, ThreeWayComparisonIsLexicographicAndStrong) {
  static_assert(std::is_same_v<decltype(MacAddress() <=> MacAddress()), std::strong_ordering>);
  static_assert((MacAddress({1, 0, 0, 0, 0, 9}) <=> MacAddress({1, 0, 0, 0, 1, 0})) < 0);
  EXPECT_EQ(MacAddress({9, 0, 0, 0, 0, 0}) <=> MacAddress({1, 9, 9, 9, 9, 9}),
            std::strong_ordering::greater);
  EXPECT_EQ(MacAddress({1, 2, 3, 4, 5, 6}) <=> MacAddress({1, 2, 3, 4, 5, 6}),
            std::strong_ordering::equal);
  EXPECT_NE(MacAddress({1, 2, 3, 4, 5, 6}), MacAddress({1, 2, 3, 4, 5, 7}));
  const std::set<MacAddress> sorted{MacAddress({3, 0, 0, 0, 0, 0}), MacAddress({1, 0, 0, 0, 0, 2}),
                                    MacAddress({1, 0, 0, 0, 0, 1})};
  EXPECT_EQ(sorted.begin()->to_string(), "01:00:00:00:00:01");
  EXPECT_EQ(sorted.rbegin()->to_string(), "03:00:00:00:00:00");
}

TEST(MacAddressTest, RandomLocalIsLocallyAdministeredUnicastAndDistinct) {
  constexpr int draws = 1000;
  std::set<MacAddress> seen;
  std::set<std::uint8_t> first_octet_high_bits;
  for (int i = 0; i < draws; ++i) {
    const auto mac = MacAddress::random_local();
    EXPECT_TRUE(mac.is_locally_administered()) << mac.to_string();
    EXPECT_FALSE(mac.is_multicast()) << mac.to_string();
    EXPECT_NE(mac, MacAddress()) << mac.to_string();
    // A NIC accepts it: it parses back.
    const auto parsed = MacAddress::parse(mac.to_string());
    ASSERT_TRUE(vmm_test::IsOk(parsed)) << mac.to_string();
    EXPECT_EQ(*parsed, mac);
    seen.insert(mac);
    first_octet_high_bits.insert(static_cast<std::uint8_t>(mac.bytes()[0] >> 2));
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(draws)) << "duplicates among random MACs";
  // Only the two low bits of the first octet are fixed: the other six still vary.
  EXPECT_GT(first_octet_high_bits.size(), 1u);
}

}  // namespace
