// Console ports in a config: the naming rules of src/config/console_ports.cpp (through build())
// and the JSON round trip.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "config/test_support.hpp"
#include "vmm/config.hpp"

namespace {

using namespace vmm;
using testing::HasSubstr;
using vmm_test::compact;
using vmm_test::IsInvalid;
using vmm_test::TempDir;

class ConsolePortConfigTest : public ::testing::Test {
 protected:
  VmConfigBuilder builder() {
    auto b = VmConfig::builder();
    b.linux_boot(kernel_);
    return b;
  }
  TempDir dir_;
  std::filesystem::path kernel_ = [this] {
    const auto path = dir_.path() / "vmlinuz";
    std::ofstream(path) << "kernel";
    return path;
  }();
};

TEST_F(ConsolePortConfigTest, PortsKeepTheirNamesInOrder) {
  auto config = builder().console_port("org.qemu.guest_agent.0").console_port("vmm-agent_1").build();
  ASSERT_TRUE(config) << config.error().to_string();
  ASSERT_EQ(config->console_ports().size(), 2U);
  EXPECT_EQ(config->console_ports()[0].name, "org.qemu.guest_agent.0");
  EXPECT_EQ(config->console_ports()[1].name, "vmm-agent_1");
  EXPECT_TRUE(builder().build()->console_ports().empty());
}

TEST_F(ConsolePortConfigTest, NamesAreNonEmptyShortPlainAndUnique) {
  EXPECT_TRUE(IsInvalid(builder().console_port("").build(), "console_ports[0]", "empty"));
  EXPECT_TRUE(IsInvalid(builder().console_port("a,b").build(), "console_ports[0]", "\"a,b\""));
  EXPECT_TRUE(IsInvalid(builder().console_port("ok").console_port("a/b").build(),
                        "console_ports[1]", "\"a/b\""));
  EXPECT_TRUE(IsInvalid(builder().console_port("..").build(), "console_ports[0]", "\"..\""));
  EXPECT_TRUE(IsInvalid(builder().console_port("p").console_port("p").build(), "console_ports[1]",
                        "console_ports[0]"));
  const std::string longest(VmConfig::max_console_port_name_bytes, 'n');
  EXPECT_TRUE(builder().console_port(longest).build());
  EXPECT_TRUE(IsInvalid(builder().console_port(longest + "n").build(), "console_ports[0]",
                        "64 bytes"));
}

TEST_F(ConsolePortConfigTest, AtMostSixteenPorts) {
  auto b = builder();
  for (std::size_t i = 0; i < VmConfig::max_console_ports; ++i) b.console_port("p" + std::to_string(i));
  EXPECT_TRUE(b.build());
  b.console_port("one-more");
  auto too_many = b.build();
  ASSERT_FALSE(too_many);
  EXPECT_EQ(too_many.error().code(), Errc::invalid_config);
  EXPECT_THAT(too_many.error().message(), HasSubstr("console_ports: 17 ports given, at most 16"));
}

TEST_F(ConsolePortConfigTest, JsonRoundTripsPortsAndLeavesThemOutWhenThereAreNone) {
  auto config = builder().console_port("vmm.agent").console_port("data").build();
  ASSERT_TRUE(config);
  const auto text = compact(config->to_json());
  EXPECT_THAT(text, HasSubstr(R"("console_ports":["vmm.agent","data"])"));
  auto back = VmConfig::from_json(text);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back, *config);
  EXPECT_THAT(builder().build()->to_json(), ::testing::Not(HasSubstr("console_ports")));
}

TEST_F(ConsolePortConfigTest, JsonRejectsANonStringPortNamingItsPath) {
  auto config = builder().console_port("x").build();
  ASSERT_TRUE(config);
  auto text = compact(config->to_json());
  const auto at = text.find(R"(["x"])");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 5, "[7]");
  auto back = VmConfig::from_json(text);
  ASSERT_FALSE(back);
  EXPECT_THAT(back.error().message(), HasSubstr("$.console_ports[0]: expected a string"));
  text.replace(text.find("[7]"), 3, R"(["a b"])");
  back = VmConfig::from_json(text);
  ASSERT_FALSE(back);
  EXPECT_THAT(back.error().message(), HasSubstr("console_ports[0]"));
}

}  // namespace
