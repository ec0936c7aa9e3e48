// Console ports and NAT on QEMU. Ports: the plan gives each port a child descriptor after the
// file-handle networks, and the command line puts a virtserialport per port on the virtio
// console's bus. NAT: hostfwd rules and the DHCP address vmm chooses.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "qemu/command_line.hpp"
#include "qemu/plan.hpp"
#include "test_support.hpp"

namespace vmm::qemu {
namespace {

using ::testing::ElementsAre;
using testing::ScratchDir;
using testing::values_of;

class QemuConsolePortTest : public ::testing::Test {
 protected:
  QemuConsolePortTest() {
    host_.binary = "/usr/bin/qemu-system-x86_64";
    host_.acceleration = Acceleration::tcg;
  }
  VmConfigBuilder builder() {
    auto b = VmConfig::builder();
    b.memory(Size::mib(256)).linux_boot(scratch_.file("vmlinuz"), std::nullopt, "console=hvc0");
    return b;
  }
  ScratchDir scratch_;
  QemuHostFacts host_;
};

TEST_F(QemuConsolePortTest, PortsGetDescriptorsAfterTheFileHandleNetworks) {
  std::array<int, 2> net{};
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM, 0, net.data()), 0);
  auto config = builder().network(FileHandleNetwork{net[0]}).console_port("a").console_port("b").build();
  ASSERT_TRUE(config) << config.error().to_string();
  auto paths = plan_runtime_layout(*config, scratch_.dir("work"), {}, 3);
  ::close(net[0]);
  ::close(net[1]);
  ASSERT_TRUE(paths) << paths.error().to_string();
  EXPECT_THAT(paths->network_fds, ElementsAre(6));
  EXPECT_THAT(paths->console_port_fds, ElementsAre(7, 8));

  auto none = builder().build();
  ASSERT_TRUE(none);
  auto no_ports = plan_runtime_layout(*none, scratch_.dir("work2"), {}, 3);
  ASSERT_TRUE(no_ports);
  EXPECT_TRUE(no_ports->console_port_fds.empty());
}

TEST_F(QemuConsolePortTest, EachPortIsAVirtserialportOnTheConsoleBusOverItsDescriptor) {
  auto config = builder().console_port("vmm.agent").console_port("org.qemu.guest_agent.0").build();
  ASSERT_TRUE(config) << config.error().to_string();
  QemuRuntimePaths paths;
  paths.console_port_fds = {8, 9};
  auto line = build_qemu_command_line(*config, host_, paths);
  ASSERT_TRUE(line) << line.error().to_string();
  const auto chardevs = values_of(line->argv, "-chardev");
  EXPECT_THAT(chardevs, ::testing::IsSupersetOf({std::string("socket,id=port0,fd=8"),
                                                 std::string("socket,id=port1,fd=9")}));
  std::vector<std::string> ports;
  for (const auto& device : values_of(line->argv, "-device")) {
    if (device.rfind("virtserialport,", 0) == 0) ports.push_back(device);
  }
  EXPECT_THAT(ports,
              ElementsAre("virtserialport,bus=virtio-serial0.0,chardev=port0,name=vmm.agent",
                          "virtserialport,bus=virtio-serial0.0,chardev=port1,"
                          "name=org.qemu.guest_agent.0"));
  // The bus is the one the virtio console made, and it comes first in argv.
  const auto& argv = line->argv;
  const auto bus = std::find(argv.begin(), argv.end(), "virtio-serial-device,id=virtio-serial0");
  const auto port = std::find(argv.begin(), argv.end(), ports.front());
  EXPECT_LT(bus, port);
}

TEST_F(QemuConsolePortTest, APortDoesNotBlockSaveOnQemu) {
  auto config = builder().console_port("vmm.agent").build();
  ASSERT_TRUE(config);
  EXPECT_TRUE(check_qemu_save_support(*config));
}

}  // namespace
}  // namespace vmm::qemu

namespace vmm::qemu {
namespace {

// NAT: vmm decides the guest's DHCP address (dhcpstart), which guest_addresses() reports, and
// each forward is a hostfwd rule.
TEST(QemuNatTest, ForwardsAreHostfwdRulesAndTheGuestAddressIsTheDhcpStart) {
  testing::ScratchDir scratch;
  PortForward web;
  web.host_port = 8080;
  web.guest_port = 80;
  PortForward dns;
  dns.protocol = Protocol::udp;
  dns.host_address = "0.0.0.0";
  dns.host_port = 5353;
  dns.guest_port = 53;
  auto config = VmConfig::builder()
                    .linux_boot(scratch.file("vmlinuz"))
                    .network(NatNetwork{{web, dns}})
                    .network(UnixDatagramNetwork{scratch.path() / "peer.sock"})
                    .nat_network()
                    .build();
  ASSERT_TRUE(config) << config.error().to_string();
  QemuHostFacts host;
  host.binary = "/usr/bin/qemu-system-x86_64";
  QemuRuntimePaths paths;
  paths.network_local_sockets = {{}, scratch.path() / "net1.sock", {}};
  auto line = build_qemu_command_line(*config, host, paths);
  ASSERT_TRUE(line) << line.error().to_string();
  const auto netdevs = values_of(line->argv, "-netdev");
  ASSERT_EQ(netdevs.size(), 3U);
  EXPECT_EQ(netdevs[0],
            "user,id=net0,net=10.0.2.0/24,dhcpstart=10.0.2.15,"
            "hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=udp:0.0.0.0:5353-:53");
  EXPECT_EQ(netdevs[2], "user,id=net2,net=10.0.2.0/24,dhcpstart=10.0.2.15");
  EXPECT_THAT(qemu_guest_addresses(*config),
              ElementsAre(GuestAddress{0, "10.0.2.15"}, GuestAddress{2, "10.0.2.15"}));
}

}  // namespace
}  // namespace vmm::qemu
