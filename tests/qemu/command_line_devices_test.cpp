// The VmConfig -> QEMU argv decisions for networks, virtiofs shares, vsock, entropy and the
// balloon, without QEMU.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "command_line_fixture.hpp"
#include "qemu/command_line.hpp"
#include "test_support.hpp"
#include "vmm/vmm.hpp"

namespace vmm::qemu {
namespace {

using nlohmann::json;
using testing::CommandLineTest;
using testing::other_devices;
using testing::values_of;

TEST_F(CommandLineTest, NatNetworkIsUserModeWithTheMac) {
  const auto mac = *MacAddress::parse("52:54:00:12:34:56");
  auto builder = linux_builder();
  builder.nat_network(mac);
  const auto a = argv(builder);
  EXPECT_EQ(values_of(a, "-netdev"),
            std::vector<std::string>{"user,id=net0,net=10.0.2.0/24,dhcpstart=10.0.2.15"});
  EXPECT_EQ(other_devices(a),
            std::vector<std::string>{"virtio-net-device,netdev=net0,mac=52:54:00:12:34:56"});
}

TEST_F(CommandLineTest, TapNetworkOpensTheInterfaceByNameWithoutScripts) {
  auto builder = linux_builder();
  builder.network(TapNetwork{"tap,0"}, *MacAddress::parse("52:54:00:12:34:57"));
  const auto a = argv(builder);
  // A comma in the name is doubled: QEMU's option syntax would split there.
  EXPECT_EQ(values_of(a, "-netdev"),
            std::vector<std::string>{"tap,id=net0,ifname=tap,,0,script=no,downscript=no"});
  EXPECT_EQ(other_devices(a),
            std::vector<std::string>{"virtio-net-device,netdev=net0,mac=52:54:00:12:34:57"});
}

TEST_F(CommandLineTest, FileHandleNetworkPassesTheMappedDescriptorWithItsMtu) {
  std::array<int, 2> pair{};
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM, 0, pair.data()), 0);
  auto builder = linux_builder();
  builder.nat_network();
  builder.network(FileHandleNetwork{pair[0], 9000});
  paths_.network_fds = {-1, 5};
  const auto a = argv(builder);
  ::close(pair[0]);
  ::close(pair[1]);
  const auto netdevs = values_of(a, "-netdev");
  ASSERT_EQ(netdevs.size(), 2u);
  const auto netdev = json::parse(netdevs[1]);
  EXPECT_EQ(netdev["type"], "dgram");
  EXPECT_EQ(netdev["id"], "net1");
  EXPECT_EQ(netdev["local"]["type"], "fd");
  EXPECT_EQ(netdev["local"]["str"], "5");
  const auto devices = other_devices(a);
  ASSERT_EQ(devices.size(), 2u);
  EXPECT_EQ(devices[1].rfind("virtio-net-device,netdev=net1,mac=", 0), 0u) << devices[1];
  EXPECT_NE(devices[1].find(",host_mtu=9000"), std::string::npos) << devices[1];
}

TEST_F(CommandLineTest, UnixDatagramNetworkBindsALocalPathAndSendsToThePeer) {
  auto builder = linux_builder();
  builder.network(UnixDatagramNetwork{"/run/peer.sock", 1500});
  paths_.network_local_sockets = {scratch_.path() / "net0.sock"};
  const auto a = argv(builder);
  const auto netdev = json::parse(values_of(a, "-netdev").at(0));
  EXPECT_EQ(netdev["type"], "dgram");
  EXPECT_EQ(netdev["local"]["type"], "unix");
  EXPECT_EQ(netdev["local"]["path"], (scratch_.path() / "net0.sock").string());
  EXPECT_EQ(netdev["remote"]["type"], "unix");
  EXPECT_EQ(netdev["remote"]["path"], "/run/peer.sock");
  EXPECT_NE(other_devices(a).at(0).find(",host_mtu=1500"), std::string::npos);
}

TEST_F(CommandLineTest, BridgedAndVmnetNetworksAreUnsupported) {
  auto bridged = linux_builder();
  bridged.network(BridgedNetwork{"eth0"});
  expect_unsupported(bridged, "bridged");
  auto vmnet = linux_builder();
  vmnet.network(VmnetNetwork{});
  expect_unsupported(vmnet, "vmnet");
}

TEST_F(CommandLineTest, ShareRunsOverVhostUserWithSharedMemory) {
  auto builder = linux_builder();
  builder.share("data", scratch_.dir("shared"));
  paths_.virtiofs_sockets = {scratch_.path() / "fs,0.sock"};
  const auto a = argv(builder);
  EXPECT_EQ(values_of(a, "-machine"),
            std::vector<std::string>{"microvm,acpi=on,memory-backend=mem"});
  EXPECT_EQ(values_of(a, "-object"),
            std::vector<std::string>{"memory-backend-memfd,id=mem,size=256M,share=on"});
  EXPECT_EQ(values_of(a, "-chardev").back(),
            "socket,id=fs0,path=" + (scratch_.path() / "fs,,0.sock").string());
  EXPECT_EQ(other_devices(a),
            std::vector<std::string>{"vhost-user-fs-device,chardev=fs0,tag=data"});
}

TEST_F(CommandLineTest, SharesWithoutVirtiofsdAreUnsupportedNamingIt) {
  host_.virtiofsd.reset();
  auto builder = linux_builder();
  builder.share("data", scratch_.dir("shared"));
  paths_.virtiofs_sockets = {scratch_.path() / "fs0.sock"};
  expect_unsupported(builder, "virtiofsd");
}

TEST_F(CommandLineTest, ReadOnlyAndMultiDirectorySharesAreUnsupported) {
  paths_.virtiofs_sockets = {scratch_.path() / "fs0.sock"};
  auto read_only = linux_builder();
  read_only.share("data", scratch_.dir("ro"), true);
  expect_unsupported(read_only, "read-only");

  VirtiofsShare multi;
  multi.tag = "many";
  multi.source = std::map<std::string, SharedDirectory>{{"a", {scratch_.dir("a"), false}},
                                                        {"b", {scratch_.dir("b"), false}}};
  auto many = linux_builder();
  many.share(multi);
  expect_unsupported(many, "several directories");
}

TEST_F(CommandLineTest, VsockNeedsVhostVsock) {
  auto builder = linux_builder();
  builder.vsock();
  expect_unsupported(builder, "/dev/vhost-vsock");
  host_.vhost_vsock = true;
  paths_.vsock_cid = 42;
  EXPECT_EQ(other_devices(argv(builder)),
            std::vector<std::string>{"vhost-vsock-device,guest-cid=42"});
}

TEST_F(CommandLineTest, EntropyAndBalloonAreVirtioDevices) {
  auto builder = linux_builder();
  builder.entropy().balloon();
  const auto a = argv(builder);
  EXPECT_EQ(values_of(a, "-object"),
            std::vector<std::string>{"rng-random,id=rng0,filename=/dev/urandom"});
  EXPECT_EQ(other_devices(a),
            (std::vector<std::string>{"virtio-rng-device,rng=rng0", "virtio-balloon-device"}));
}

}  // namespace
}  // namespace vmm::qemu
