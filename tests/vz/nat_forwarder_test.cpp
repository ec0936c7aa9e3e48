// The VZ NAT forwarder (src/vz/nat_forwarder.hpp) on loopback: a fake dhcpd_leases file maps
// each network's MAC to a 127.0.0.x "guest" server. Bytes both ways, the address chosen by the
// MAC's lease, concurrent connections, a lease that appears late, one that never does, a host
// port in use, and a shutdown with connections open and waiting.
#include "vz/nat_forwarder.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <fstream>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "nat_guest.hpp"
#include "support/loopback.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace vmm::vz {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using test::connect_local;
using test::GuestServer;
using test::lease_block;
using test::read_some;
using test::read_to_end;
using test::write_all;

using test::kMac;
const MacAddress kOtherMac = *MacAddress::parse("52:54:00:ab:0c:02");

PortForward tcp(std::uint32_t host_port, std::uint32_t guest_port) {
  PortForward forward;
  forward.host_port = host_port;
  forward.guest_port = guest_port;
  return forward;
}

// A fake leases file in a temp directory, and options that read it with short waits.
struct Leases {
  support::TempDir dir;
  std::filesystem::path path = dir.path() / "dhcpd_leases";
  void write(const std::string& text) const { std::ofstream(path) << text; }
  NatForwarderOptions options(std::chrono::milliseconds wait = 10s) const {
    return NatForwarderOptions{lease_file(path), wait, 20ms};
  }
};

std::unique_ptr<NatForwarder> start(std::vector<NatNetworkForwards> networks,
                                    NatForwarderOptions options) {
  auto forwarder = NatForwarder::start(std::move(networks), std::move(options));
  EXPECT_TRUE(forwarder) << forwarder.error().to_string();
  return forwarder ? std::move(*forwarder) : nullptr;
}

// Sends `payload`, half-closes, and returns everything the guest answered.
std::string round_trip(std::uint16_t port, const std::string& payload) {
  auto client = connect_local(port);
  if (!client.valid() || !write_all(client.get(), payload)) return "<no connection>";
  ::shutdown(client.get(), SHUT_WR);
  return read_to_end(client.get());
}

TEST(VzNatForwarder, CarriesBytesBothWaysToTheLeasedAddress) {
  GuestServer guest("guest");
  ASSERT_TRUE(guest.valid());
  Leases leases;
  leases.write(lease_block("127.0.0.1", kMac));
  auto forwarder = start({{0, kMac, {tcp(0, guest.port())}}}, leases.options());
  ASSERT_TRUE(forwarder);
  ASSERT_EQ(forwarder->ports().size(), 1U);
  const auto port = forwarder->ports()[0];
  ASSERT_NE(port, guest.port());
  EXPECT_EQ(round_trip(port, "hello guest"), "guest:hello guest");
  // A payload far larger than the relay's buffers, and a second connection on one forward.
  std::string big(1 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  EXPECT_EQ(round_trip(port, big), "guest:" + big);
  EXPECT_EQ(guest.accepted(), 2);
}

// Two networks, two MACs, one guest port: each forward reaches the address its network's MAC
// leased. 127.0.0.2 is a loopback address on Linux only (macOS configures 127.0.0.1 alone).
TEST(VzNatForwarder, EachNetworkReachesTheAddressLeasedToItsMac) {
#if defined(__APPLE__)
  GTEST_SKIP() << "127.0.0.2 is not a local address on macOS";
#endif
  GuestServer first("first", "127.0.0.1");
  ASSERT_TRUE(first.valid());
  GuestServer second("second", "127.0.0.2", first.port());
  ASSERT_TRUE(second.valid());
  Leases leases;
  leases.write(lease_block("127.0.0.2", kOtherMac) + lease_block("127.0.0.1", kMac));
  auto forwarder = start({{0, kMac, {tcp(0, first.port())}},
                          {2, kOtherMac, {tcp(0, first.port())}}},
                         leases.options());
  ASSERT_TRUE(forwarder);
  const auto ports = forwarder->ports();
  ASSERT_EQ(ports.size(), 2U);
  EXPECT_EQ(round_trip(ports[0], "a"), "first:a");
  EXPECT_EQ(round_trip(ports[1], "b"), "second:b");
}

TEST(VzNatForwarder, ConcurrentConnectionsEachGetTheirOwnBytes) {
  GuestServer guest("guest");
  ASSERT_TRUE(guest.valid());
  Leases leases;
  leases.write(lease_block("127.0.0.1", kMac));
  auto forwarder = start({{0, kMac, {tcp(0, guest.port()), tcp(0, guest.port())}}},
                         leases.options());
  ASSERT_TRUE(forwarder);
  const auto ports = forwarder->ports();
  ASSERT_EQ(ports.size(), 2U);
  // All connected first, then all served: none waits for another to finish.
  constexpr int kClients = 8;
  std::vector<FileDescriptor> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(connect_local(ports[static_cast<std::size_t>(i % 2)]));
    ASSERT_TRUE(clients.back().valid());
  }
  for (int i = 0; i < kClients; ++i) {
    const auto fd = clients[static_cast<std::size_t>(i)].get();
    ASSERT_TRUE(write_all(fd, "client-" + std::to_string(i)));
    const auto expected = "guest:client-" + std::to_string(i);
    EXPECT_EQ(read_some(fd, expected.size()), expected);
  }
  EXPECT_TRUE(support::wait_until([&] { return guest.accepted() == kClients; }, 10s));
  for (int i = kClients - 1; i >= 0; --i) {  // ended in the other order: each on its own
    const auto fd = clients[static_cast<std::size_t>(i)].get();
    ASSERT_TRUE(write_all(fd, "-bye"));
    ::shutdown(fd, SHUT_WR);
    EXPECT_EQ(read_to_end(fd), "-bye");
  }
}

TEST(VzNatForwarder, AConnectionWaitsForALeaseThatAppearsLate) {
  GuestServer guest("guest");
  ASSERT_TRUE(guest.valid());
  Leases leases;  // no file yet: macOS creates it with the first lease
  auto forwarder = start({{0, kMac, {tcp(0, guest.port())}}}, leases.options(30s));
  ASSERT_TRUE(forwarder);
  auto answer = std::async(std::launch::async, [&] { return round_trip(forwarder->ports()[0], "x"); });
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(guest.accepted(), 0);
  // Another MAC's lease first: still waiting.
  leases.write(lease_block("127.0.0.1", kOtherMac));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(guest.accepted(), 0);
  leases.write(lease_block("127.0.0.1", kOtherMac) + lease_block("127.0.0.1", kMac));
  ASSERT_EQ(answer.wait_for(20s), std::future_status::ready);
  EXPECT_EQ(answer.get(), "guest:x");
}

TEST(VzNatForwarder, WithoutALeaseTheConnectionIsClosedAfterTheWait) {
  GuestServer guest("guest");
  ASSERT_TRUE(guest.valid());
  Leases leases;
  leases.write(lease_block("127.0.0.1", kOtherMac));
  auto forwarder = start({{0, kMac, {tcp(0, guest.port())}}}, leases.options(300ms));
  ASSERT_TRUE(forwarder);
  const auto started = std::chrono::steady_clock::now();
  auto client = connect_local(forwarder->ports()[0]);
  ASSERT_TRUE(client.valid());
  EXPECT_EQ(read_to_end(client.get(), 10s), "");  // closed, not hung
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_EQ(guest.accepted(), 0);
  // A malformed file is looked at again until the bound, then the same clean close.
  leases.write("{\n");
  EXPECT_EQ(round_trip(forwarder->ports()[0], "y"), "");
  // The forward goes on: once the lease exists, the next connection gets through.
  leases.write(lease_block("127.0.0.1", kMac));
  EXPECT_EQ(round_trip(forwarder->ports()[0], "z"), "guest:z");
}

TEST(VzNatForwarder, AHostPortInUseIsAnErrorNamingTheForwardAndNothingStaysBound) {
  std::uint16_t taken = 0;
  auto holder = support::listen_loopback(taken);
  ASSERT_TRUE(holder.valid());
  const auto first = support::free_loopback_port();
  ASSERT_NE(first, 0);
  Leases leases;
  auto forwarder = NatForwarder::start({{1, kMac, {tcp(first, 22), tcp(taken, 80)}}},
                                       leases.options());
  ASSERT_FALSE(forwarder);
  EXPECT_EQ(forwarder.error().code(), Errc::io);
  EXPECT_THAT(forwarder.error().message(),
              HasSubstr("networks[1].forwards[1] (tcp 127.0.0.1:" + std::to_string(taken) +
                        " -> guest port 80)"));
  EXPECT_THAT(forwarder.error().message(), HasSubstr("cannot bind"));
  // The first forward was bound, then released with the failed start.
  GuestServer rebound("x", "127.0.0.1", first);
  EXPECT_TRUE(rebound.valid());
}

TEST(VzNatForwarder, UdpIsRefusedNamingTheForward) {
  Leases leases;
  auto udp = tcp(0, 53);
  udp.protocol = Protocol::udp;
  auto forwarder = NatForwarder::start({{0, kMac, {tcp(0, 22), udp}}}, leases.options());
  ASSERT_FALSE(forwarder);
  EXPECT_EQ(forwarder.error().code(), Errc::unsupported);
  EXPECT_THAT(forwarder.error().message(), HasSubstr("networks[0].forwards[1] (udp"));
}

// Destruction ends an open connection and a connection waiting for its lease at once, joins
// the relays' threads, and releases the host ports.
TEST(VzNatForwarder, ShutdownEndsOpenAndWaitingConnections) {
  GuestServer guest("guest");
  ASSERT_TRUE(guest.valid());
  Leases leases;
  leases.write(lease_block("127.0.0.1", kMac));
  auto forwarder = start({{0, kMac, {tcp(0, guest.port())}}, {1, kOtherMac, {tcp(0, 80)}}},
                         leases.options(60s));
  ASSERT_TRUE(forwarder);
  const auto ports = forwarder->ports();
  auto open = connect_local(ports[0]);
  ASSERT_TRUE(open.valid());
  ASSERT_TRUE(write_all(open.get(), "ping"));
  EXPECT_EQ(read_some(open.get(), 10), "guest:ping");
  auto waiting = connect_local(ports[1]);  // kOtherMac has no lease: waits up to 60 s
  ASSERT_TRUE(waiting.valid());
  std::this_thread::sleep_for(100ms);
  const auto started = std::chrono::steady_clock::now();
  forwarder.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s) << "a lease wait held the stop";
  EXPECT_EQ(read_to_end(open.get(), 10s), "");
  EXPECT_EQ(read_to_end(waiting.get(), 10s), "");
  for (const auto port : ports) {
    GuestServer rebound("x", "127.0.0.1", port);
    EXPECT_TRUE(rebound.valid()) << "port " << port << " is still bound";
  }
}

TEST(VzNatGuestAddresses, EachNatNetworkGetsItsMacsLease) {
  Leases leases;
  leases.write(lease_block("192.168.64.7", kOtherMac) + lease_block("192.168.64.3", kMac) +
               lease_block("192.168.64.2", kMac, "0x6763a000"));  // older: not this one
  const auto source = lease_file(leases.path);
  auto addresses = nat_guest_addresses({{0, kMac, {}}, {3, kOtherMac, {}}}, source);
  ASSERT_TRUE(addresses) << addresses.error().to_string();
  EXPECT_EQ(*addresses, (std::vector<GuestAddress>{{0, "192.168.64.3"}, {3, "192.168.64.7"}}));
  EXPECT_EQ(*nat_guest_addresses({}, source), std::vector<GuestAddress>{});
}

TEST(VzNatGuestAddresses, ANetworkWithoutALeaseIsNotFoundNamingIt) {
  Leases leases;
  const auto source = lease_file(leases.path);
  auto none = nat_guest_addresses({{2, kMac, {}}}, source);  // no file at all
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), Errc::not_found);
  EXPECT_THAT(none.error().message(), HasSubstr("networks[2]"));
  EXPECT_THAT(none.error().message(), HasSubstr(kMac.to_string()));
  EXPECT_THAT(none.error().message(), HasSubstr(leases.path.string()));
  leases.write("{\n");
  auto broken = nat_guest_addresses({{2, kMac, {}}}, source);
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code(), Errc::invalid_config);
  EXPECT_THAT(broken.error().message(), HasSubstr("networks[2]: " + leases.path.string()));
}

}  // namespace
}  // namespace vmm::vz
