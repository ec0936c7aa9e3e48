#include <gtest/gtest.h>

#include "config/ipv4_subnet.hpp"

namespace vmm::detail {
namespace {

TEST(Ipv4Subnet, ParsesAddressMaskAndPrefix) {
  auto subnet = parse_ipv4_subnet("10.20.0.0/14");
  ASSERT_TRUE(subnet);
  EXPECT_EQ(subnet->address, (std::array<std::uint8_t, 4>{10, 20, 0, 0}));
  EXPECT_EQ(subnet->mask, (std::array<std::uint8_t, 4>{255, 252, 0, 0}));
  EXPECT_EQ(subnet->prefix, 14);
  EXPECT_EQ(subnet->first_host, (std::array<std::uint8_t, 4>{10, 20, 0, 1}));
}

TEST(Ipv4Subnet, RejectsMalformedTextQuotingIt) {
  for (const char* text : {"192.168.105.0", "192.168.105/24", "192.168.105.256/24",
                           "192.168.105.0/7", "192.168.105.0/31", "192.168.105.1/24",
                           "1921.168.105.0/24", "192.168.105.0/24 ", "a.b.c.d/24", ""}) {
    auto subnet = parse_ipv4_subnet(text);
    ASSERT_FALSE(subnet) << text;
    EXPECT_EQ(subnet.error().code(), Errc::invalid_config);
    EXPECT_NE(subnet.error().message().find("\"" + std::string(text) + "\""), std::string::npos);
  }
}

}  // namespace
}  // namespace vmm::detail
