#include <gtest/gtest.h>

#include "vz/bridged_interface.hpp"

namespace vmm::vz {
namespace {

TEST(VzBridgedInterface, FindsTheNamedInterface) {
  EXPECT_EQ(*find_bridged_interface({"en0", "en1", "bridge0"}, "en1"), 1U);
}

TEST(VzBridgedInterface, UnknownNameListsTheAvailableOnes) {
  auto found = find_bridged_interface({"en0", "en1"}, "en7");
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().code(), Errc::not_found);
  EXPECT_NE(found.error().message().find("en7"), std::string::npos);
  EXPECT_NE(found.error().message().find("en0, en1"), std::string::npos);
}

TEST(VzBridgedInterface, NoInterfaceAtAllPointsAtTheNetworkingEntitlement) {
  auto found = find_bridged_interface({}, "en0");
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().code(), Errc::unsupported);
  EXPECT_NE(found.error().message().find("com.apple.vm.networking"), std::string::npos);
}

}  // namespace
}  // namespace vmm::vz
