// The bad inputs that examples/config-demo.cpp shows, checked here without running the example:
// each is rejected with invalid_config by the same call the demo makes, naming field and value.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/test_support.hpp"
#include "vmm/vmm.hpp"

namespace {

using namespace vmm;
using testing::HasSubstr;
using vmm_test::IsInvalid;
using vmm_test::IsOk;

class ConfigDemoInputsTest : public testing::Test {
 protected:
  // The demo's representative configuration.
  VmConfigBuilder good() const {
    return VmConfig::builder()
        .cpus(2)
        .memory(Size::gib(1))
        .linux_boot(kernel_, std::nullopt, "console=hvc0 root=/dev/vda")
        .kernel_command_line_fragment("quiet")
        .nat_network()
        .disk(disk_)
        .share("work", temp_.path())
        .entropy()
        .balloon();
  }

  vmm_test::TempDir temp_;
  std::filesystem::path kernel_ = temp_.file("vmlinuz");
  std::filesystem::path disk_ = temp_.file("disk.img");
};

TEST_F(ConfigDemoInputsTest, TheGoodConfigRoundTrips) {
  const auto config = good().build();
  ASSERT_TRUE(IsOk(config));
  const auto back = VmConfig::from_json(config->to_json());
  ASSERT_TRUE(IsOk(back));
  EXPECT_EQ(*back, *config);
}

TEST_F(ConfigDemoInputsTest, EveryBadInputIsRejected) {
  const auto mac = MacAddress::random_local();
  DiskImage long_id = vmm_test::disk_at(disk_);
  long_id.device_id = std::string(21, 'x');
  const auto half_mib = Size::parse("1024.5MiB");
  ASSERT_TRUE(IsOk(half_mib));

  EXPECT_TRUE(IsInvalid(good().cpus(0).build(), "cpus", "0 is below the minimum"));
  EXPECT_TRUE(IsInvalid(good().memory(Size::mib(100)).build(), "memory", "100MiB is below the minimum"));
  EXPECT_TRUE(IsInvalid(good().memory(*half_mib).build(), "memory", "1049088KiB is not a whole number of MiB"));
  EXPECT_TRUE(IsInvalid(good().linux_boot(temp_.path() / "no-such-kernel").build(), "boot.kernel",
                        (temp_.path() / "no-such-kernel").string() + " does not exist"));
  EXPECT_TRUE(IsInvalid(good().nat_network(mac).nat_network(mac).build(), "networks[2].mac",
                        mac.to_string() + " is already used by networks[1]"));
  EXPECT_TRUE(IsInvalid(good().share(std::string(40, 't'), temp_.path()).build(), "shares[1].tag",
                        "\"" + std::string(40, 't') + "\" is 40 bytes"));
  EXPECT_TRUE(IsInvalid(good().disk(long_id).build(), "disks[1].device_id",
                        "\"" + std::string(21, 'x') + "\" is 21 bytes"));
  EXPECT_TRUE(IsInvalid(good().network(VmnetNetwork{"192.168.105.1/24"}).build(), "networks[1].subnet",
                        "\"192.168.105.1/24\""));
  EXPECT_TRUE(IsInvalid(VmConfig::from_json(R"({"schema_version": 1, "colour": "blue",)"
                                            R"( "boot": {"type": "linux", "kernel": "/vmlinuz"}})"),
                        "$.colour", "unknown field"));

  const auto size = Size::parse("12 parsecs");
  ASSERT_FALSE(size);
  EXPECT_EQ(size.error().code(), Errc::invalid_config);
  EXPECT_THAT(size.error().message(), HasSubstr("size \"12 parsecs\": unknown unit \"parsecs\""));
  const auto fraction = Size::parse("1.1KiB");
  ASSERT_FALSE(fraction);
  EXPECT_EQ(fraction.error().code(), Errc::invalid_config);
  EXPECT_THAT(fraction.error().message(), HasSubstr("\"1.1KiB\": not a whole number of bytes"));
  const auto multicast = MacAddress::parse("01:00:5e:00:00:01");
  ASSERT_FALSE(multicast);
  EXPECT_EQ(multicast.error().code(), Errc::invalid_config);
  EXPECT_THAT(multicast.error().message(), HasSubstr("01:00:5e:00:00:01 is a multicast address"));
}

}  // namespace
