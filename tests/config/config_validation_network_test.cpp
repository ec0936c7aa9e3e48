// The network rules of src/config/validation.cpp, through VmConfigBuilder::build(): counts,
// MACs, and each attachment's own fields (descriptors, MTUs, interface names, vmnet subnets).
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "config/access.hpp"
#include "config/test_support.hpp"
#include "config/validation.hpp"
#include "validation_fixture.hpp"
#include "vmm/config.hpp"

namespace {

using namespace vmm;
using testing::HasSubstr;
using vmm_test::closed_fd;
using vmm_test::kMacA;
using vmm_test::kMacB;
using vmm_test::SocketPair;
using vmm_test::IsInvalid;
using vmm_test::IsOk;
using vmm_test::ValidationTest;
namespace fs = std::filesystem;

// ---- networks ----------------------------------------------------------------------------------

TEST_F(ValidationTest, AtMostEightNetworks) {
  auto builder = valid();
  for (int i = 0; i < 8; ++i) builder.nat_network();
  EXPECT_TRUE(IsOk(builder.build()));
  builder.nat_network();
  EXPECT_TRUE(IsInvalid(builder.build(), "networks", "9 networks given, at most 8"));
}

TEST_F(ValidationTest, MacCountMustMatchNetworks) {
  EXPECT_TRUE(IsInvalid(valid().nat_network().nat_network().macs({kMacA}).build(), "macs",
                        "1 MAC addresses given for 2 networks"));
  EXPECT_TRUE(IsInvalid(valid().macs({kMacA}).build(), "macs", "1 MAC addresses given for 0 networks"));
  EXPECT_TRUE(IsOk(valid().nat_network().nat_network().macs({kMacA, kMacB}).build()));
}

TEST_F(ValidationTest, MulticastMac) {
  const MacAddress multicast({0x01, 0x00, 0x5e, 0x00, 0x00, 0x01});
  EXPECT_TRUE(IsInvalid(valid().nat_network().nat_network(multicast).build(), "networks[1].mac",
                        "01:00:5e:00:00:01 is a multicast address"));
  EXPECT_TRUE(IsInvalid(valid().nat_network().macs({multicast}).build(), "networks[0].mac",
                        "01:00:5e:00:00:01 is a multicast address"));
}

TEST_F(ValidationTest, ZeroMac) {
  EXPECT_TRUE(IsInvalid(valid().nat_network(MacAddress()).build(), "networks[0].mac",
                        "00:00:00:00:00:00 is not usable"));
}

TEST_F(ValidationTest, DuplicateMacsNameBothNetworks) {
  EXPECT_TRUE(IsInvalid(valid().nat_network(kMacA).nat_network(kMacB).nat_network(kMacA).build(),
                        "networks[2].mac", "52:54:00:00:00:01 is already used by networks[0]"));
  EXPECT_TRUE(IsInvalid(valid().nat_network().nat_network().macs({kMacB, kMacB}).build(),
                        "networks[1].mac", "52:54:00:00:00:02 is already used by networks[0]"));
  // A per-network MAC that macs() replaces does not count.
  EXPECT_TRUE(IsOk(valid().nat_network(kMacA).nat_network(kMacA).macs({kMacA, kMacB}).build()));
}

TEST_F(ValidationTest, BridgedNeedsAnInterface) {
  EXPECT_TRUE(IsInvalid(with_network(BridgedNetwork{""}), "networks[1].interface",
                        "no host interface named"));
  EXPECT_TRUE(IsOk(with_network(BridgedNetwork{"en0"})));
}

TEST_F(ValidationTest, FileHandleDescriptor) {
  EXPECT_TRUE(IsInvalid(with_network(FileHandleNetwork{-1, 1500}), "networks[1].fd",
                        "-1 is not a file descriptor"));
  const int closed = closed_fd();
  ASSERT_EQ(::fcntl(closed, F_GETFD), -1);
  EXPECT_TRUE(IsInvalid(with_network(FileHandleNetwork{closed, 1500}), "networks[1].fd",
                        "descriptor " + std::to_string(closed) + " is not open"));
  const SocketPair stream(SOCK_STREAM);
  ASSERT_GE(stream.fds[0], 0);
  EXPECT_TRUE(IsInvalid(with_network(FileHandleNetwork{stream.fds[0], 1500}), "networks[1].fd",
                        "descriptor " + std::to_string(stream.fds[0]) + " is not a datagram socket"));
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  EXPECT_TRUE(IsInvalid(with_network(FileHandleNetwork{pipe_fds[0], 1500}), "networks[1].fd",
                        "descriptor " + std::to_string(pipe_fds[0]) + " is not a datagram socket"));
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  const SocketPair datagram(SOCK_DGRAM);
  ASSERT_GE(datagram.fds[0], 0);
  EXPECT_TRUE(IsOk(with_network(FileHandleNetwork{datagram.fds[0], 1500})));
}

TEST_F(ValidationTest, FileHandleMtu) {
  const SocketPair datagram(SOCK_DGRAM);
  ASSERT_GE(datagram.fds[0], 0);
  const int fd = datagram.fds[0];
  EXPECT_TRUE(IsInvalid(with_network(FileHandleNetwork{fd, 1499}), "networks[1].mtu",
                        "1499 is outside 1500..65535"));
  EXPECT_TRUE(IsInvalid(with_network(FileHandleNetwork{fd, 65536}), "networks[1].mtu",
                        "65536 is outside 1500..65535"));
  EXPECT_TRUE(IsInvalid(with_network(FileHandleNetwork{fd, 0}), "networks[1].mtu", "0 is outside"));
  EXPECT_TRUE(IsOk(with_network(FileHandleNetwork{fd, 1500})));
  EXPECT_TRUE(IsOk(with_network(FileHandleNetwork{fd, 65535})));
}

TEST_F(ValidationTest, TapInterfaceName) {
  EXPECT_TRUE(IsInvalid(with_network(TapNetwork{""}), "networks[1].ifname", "no interface named"));
  EXPECT_TRUE(IsOk(with_network(TapNetwork{std::string(15, 't')})));
  EXPECT_TRUE(IsInvalid(with_network(TapNetwork{std::string(16, 't')}), "networks[1].ifname",
                        "is 16 bytes; interface names have at most 15"));
  for (const char* bad : {"a/b", "a:b", "a b", "tab\t"}) {
    EXPECT_TRUE(IsInvalid(with_network(TapNetwork{bad}), "networks[1].ifname",
                          "has a character interface names cannot have"))
        << bad;
  }
  EXPECT_TRUE(IsInvalid(with_network(TapNetwork{".."}), "networks[1].ifname",
                        "is not an interface name"));
  EXPECT_TRUE(IsOk(with_network(TapNetwork{"vmm-tap.0"})));
}

TEST_F(ValidationTest, UnixDatagram) {
  EXPECT_TRUE(IsInvalid(with_network(UnixDatagramNetwork{"", 1500}), "networks[1].socket",
                        "no socket path given"));
  const std::string longest = "/tmp/" + std::string(98, 's');  // 103 bytes
  ASSERT_EQ(longest.size(), 103u);
  EXPECT_TRUE(IsOk(with_network(UnixDatagramNetwork{longest, 1500})));
  const std::string too_long = longest + "x";
  EXPECT_TRUE(IsInvalid(with_network(UnixDatagramNetwork{too_long, 1500}), "networks[1].socket",
                        too_long + " is 104 bytes, longer than a unix socket address allows (103)"));
  EXPECT_TRUE(IsInvalid(with_network(UnixDatagramNetwork{"/tmp/s", 1499}), "networks[1].mtu",
                        "1499 is outside 1500..65535"));
  EXPECT_TRUE(IsInvalid(with_network(UnixDatagramNetwork{"/tmp/s", 65536}), "networks[1].mtu",
                        "65536 is outside 1500..65535"));
  EXPECT_TRUE(IsOk(with_network(UnixDatagramNetwork{"/tmp/s", 65535})));
}

TEST_F(ValidationTest, VmnetSubnetsAccepted) {
  EXPECT_TRUE(IsOk(with_network(VmnetNetwork{})));
  for (const std::string subnet : {"192.168.105.0/24", "10.0.0.0/8", "172.16.0.0/12",
                                   "192.168.1.252/30", "255.255.255.0/24"})
    EXPECT_TRUE(IsOk(with_network(VmnetNetwork{subnet}))) << subnet;
}

TEST_F(ValidationTest, VmnetSubnetsRejected) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"192.168.105.1/24", "host bits are set"},
      {"10.0.0.128/24", "host bits are set"},
      {"300.1.1.0/24", "an octet is above 255"},
      {"10.0.0.0", "no prefix length"},
      {"10.0.0.0/33", "between 8 and 30"},
      {"10.0.0.0/31", "between 8 and 30"},
      {"10.0.0.0/7", "between 8 and 30"},
      {"10.0.0.0/", "malformed prefix length"},
      {"10.0.0.0/2a", "malformed prefix length"},
      {"10.0.0.0/100", "malformed prefix length"},
      {"a.b.c.d/8", "malformed address"},
      {"10.0.0/24", "malformed address"},
      {"10.0.0.0.0/24", "malformed address"},
      {"10..0.0/24", "malformed address"},
      {"1000.0.0.0/8", "malformed address"},
      {"/24", "malformed address"},
      {"", "no prefix length"},
      {"010.0.0.0/8", "leading zero"},
      {"10.0.00.0/24", "leading zero"},
  };
  for (const auto& [subnet, why] : cases) {
    const auto config = with_network(VmnetNetwork{subnet});
    EXPECT_TRUE(IsInvalid(config, "networks[1].subnet", "\"" + subnet + "\" is not an IPv4 subnet"))
        << subnet;
    if (!config) {
      EXPECT_THAT(config.error().message(), HasSubstr(why)) << subnet;
    }
  }
}

TEST_F(ValidationTest, Ipv4SubnetCheckIsReusable) {
  EXPECT_TRUE(IsOk(detail::check_ipv4_subnet("plan.subnet", "192.168.105.0/24")));
  EXPECT_TRUE(IsInvalid(detail::check_ipv4_subnet("plan.subnet", "192.168.105.1/24"), "plan.subnet",
                        "\"192.168.105.1/24\""));
}

}  // namespace
