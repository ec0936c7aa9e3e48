// NAT port forwards in a config: the rules of src/config/port_forwards.cpp (through build())
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

PortForward forward(std::uint32_t host_port, std::uint32_t guest_port,
                    Protocol protocol = Protocol::tcp, std::string address = "127.0.0.1") {
  PortForward f;
  f.protocol = protocol;
  f.host_address = std::move(address);
  f.host_port = host_port;
  f.guest_port = guest_port;
  return f;
}

class PortForwardConfigTest : public ::testing::Test {
 protected:
  VmConfigBuilder with(std::vector<PortForward> forwards) {
    auto b = VmConfig::builder();
    b.linux_boot(kernel_).network(NatNetwork{std::move(forwards)});
    return b;
  }
  TempDir dir_;
  std::filesystem::path kernel_ = [this] {
    const auto path = dir_.path() / "vmlinuz";
    std::ofstream(path) << "kernel";
    return path;
  }();
};

TEST_F(PortForwardConfigTest, PortsAreOneTo65535) {
  EXPECT_TRUE(with({forward(1, 65535)}).build());
  EXPECT_TRUE(IsInvalid(with({forward(0, 80)}).build(), "networks[0].forwards[0].host_port", "0"));
  EXPECT_TRUE(IsInvalid(with({forward(8080, 65536)}).build(),
                        "networks[0].forwards[0].guest_port", "65536"));
}

TEST_F(PortForwardConfigTest, HostAddressIsAnIpv4Address) {
  EXPECT_TRUE(with({forward(8080, 80, Protocol::tcp, "0.0.0.0")}).build());
  EXPECT_TRUE(IsInvalid(with({forward(8080, 80, Protocol::tcp, "localhost")}).build(),
                        "networks[0].forwards[0].host_address", "\"localhost\""));
  EXPECT_TRUE(IsInvalid(with({forward(8080, 80, Protocol::tcp, "127.0.0.256")}).build(),
                        "networks[0].forwards[0].host_address", "127.0.0.256"));
}

TEST_F(PortForwardConfigTest, NoHostPortTwiceForOneProtocolAcrossNetworks) {
  // The same port for tcp and udp is two sockets: fine.
  EXPECT_TRUE(with({forward(8080, 80), forward(8080, 80, Protocol::udp)}).build());
  EXPECT_TRUE(IsInvalid(with({forward(8080, 80), forward(8080, 81)}).build(),
                        "networks[0].forwards[1].host_port", "networks[0].forwards[0]"));
  auto two = with({forward(9000, 80)});
  two.network(NatNetwork{{forward(9000, 22)}});
  EXPECT_TRUE(IsInvalid(two.build(), "networks[1].forwards[0].host_port", "tcp 9000"));
}

TEST_F(PortForwardConfigTest, JsonRoundTripsForwardsAndLeavesThemOutWhenThereAreNone) {
  auto config = with({forward(8080, 80), forward(5353, 53, Protocol::udp, "0.0.0.0")}).build();
  ASSERT_TRUE(config) << config.error().to_string();
  const auto text = compact(config->to_json());
  EXPECT_THAT(text, HasSubstr(R"("forwards":[{"guest_port":80,"host_address":"127.0.0.1")"));
  EXPECT_THAT(text, HasSubstr(R"("protocol":"udp")"));
  auto back = VmConfig::from_json(text);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back, *config);
  auto plain = with({}).build();
  ASSERT_TRUE(plain);
  EXPECT_THAT(plain->to_json(), ::testing::Not(HasSubstr("forwards")));
}

TEST_F(PortForwardConfigTest, JsonNamesABadProtocolOrPortByPath) {
  auto config = with({forward(8080, 80)}).build();
  ASSERT_TRUE(config);
  auto text = compact(config->to_json());
  auto bad_protocol = text;
  bad_protocol.replace(bad_protocol.find(R"("tcp")"), 5, R"("sctp")");
  auto back = VmConfig::from_json(bad_protocol);
  ASSERT_FALSE(back);
  EXPECT_THAT(back.error().message(), HasSubstr("$.networks[0].forwards[0].protocol"));
  auto bad_port = text;
  bad_port.replace(bad_port.find(R"("host_port":8080)"), 16, R"("host_port":70000)");
  back = VmConfig::from_json(bad_port);
  ASSERT_FALSE(back);
  EXPECT_THAT(back.error().message(), HasSubstr("networks[0].forwards[0].host_port"));
  EXPECT_THAT(back.error().message(), HasSubstr("70000"));
}

}  // namespace
