// The NAT forwarder's life in the VZ engine (src/vz/nat_forwarding.hpp) and the plan's NAT
// rules: forwards bound by open() and kept across a second open (a resume), closed by a failed
// start, a successful stop and the run-ended hook (EngineLink); TCP forwards planned, UDP
// refused naming the forward.
#include "vz/nat_forwarding.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <fstream>
#include <optional>

#include "nat_guest.hpp"
#include "support/loopback.hpp"
#include "support/temp_dir.hpp"
#include "test_support.hpp"
#include "vz/engine_link.hpp"
#include "vz/plan.hpp"

namespace vmm::vz {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using test::connect_local;
using test::GuestServer;
using test::lease_block;
using test::read_some;
using test::write_all;

using test::kMac;

// A forwarding with one forward on a fixed free host port to `guest`, leased at 127.0.0.1.
struct Fixture {
  GuestServer guest{"guest"};
  support::TempDir dir;
  std::filesystem::path leases = dir.path() / "dhcpd_leases";
  std::uint16_t host_port = support::free_loopback_port();
  std::shared_ptr<NatForwarding> forwarding;

  Fixture() {
    std::ofstream(leases) << lease_block("127.0.0.1", kMac);
    PortForward forward;
    forward.host_port = host_port;
    forward.guest_port = guest.port();
    forwarding = NatForwarding::create({{0, kMac, {forward}}},
                                       NatForwarderOptions{lease_file(leases), 10s, 20ms});
  }
  // Whether the forward answers: a connection gets the guest's greeting.
  bool reaches_guest() const {
    auto client = connect_local(host_port);
    return client.valid() && read_some(client.get(), 6, 10s) == "guest:";
  }
};

TEST(VzNatForwarding, OpenBindsOnceAndASecondOpenKeepsTheConnections) {
  Fixture f;
  ASSERT_TRUE(f.guest.valid());
  ASSERT_NE(f.host_port, 0);
  EXPECT_FALSE(f.forwarding->is_open());
  EXPECT_FALSE(f.reaches_guest());
  ASSERT_TRUE(f.forwarding->open());
  auto client = connect_local(f.host_port);
  ASSERT_TRUE(client.valid());
  EXPECT_EQ(read_some(client.get(), 6), "guest:");
  ASSERT_TRUE(f.forwarding->open());  // resume after a pause: nothing rebound, nothing dropped
  ASSERT_TRUE(write_all(client.get(), "still here"));
  EXPECT_EQ(read_some(client.get(), 10), "still here");
  f.forwarding->close();
  EXPECT_FALSE(f.forwarding->is_open());
  EXPECT_FALSE(f.reaches_guest());
  f.forwarding->close();  // twice: harmless
  ASSERT_TRUE(f.forwarding->open());  // the next run
  EXPECT_TRUE(f.reaches_guest());
}

TEST(VzNatForwarding, APortInUseFailsOpenNamingTheForward) {
  Fixture f;
  GuestServer squatter("other", "127.0.0.1", f.host_port);
  ASSERT_TRUE(squatter.valid());
  auto opened = f.forwarding->open();
  ASSERT_FALSE(opened);
  EXPECT_THAT(opened.error().message(), HasSubstr("networks[0].forwards[0]"));
  EXPECT_FALSE(f.forwarding->is_open());
}

TEST(VzNatForwarding, AFailedStartClosesAndASuccessfulOneKeeps) {
  Fixture f;
  std::optional<Result<void>> seen;
  const auto record = [&](Result<void> result) { seen = std::move(result); };
  ASSERT_TRUE(f.forwarding->open());
  f.forwarding->closing_on_failure(record)(Result<void>());
  ASSERT_TRUE(seen && *seen);
  EXPECT_TRUE(f.reaches_guest());
  f.forwarding->closing_on_failure(record)(make_error(Errc::backend, "VZ refused"));
  ASSERT_TRUE(seen && !*seen);
  EXPECT_EQ(seen->error().message(), "VZ refused");
  EXPECT_FALSE(f.forwarding->is_open());
  EXPECT_FALSE(f.reaches_guest());
}

TEST(VzNatForwarding, ASuccessfulStopClosesAndAFailedOneKeeps) {
  Fixture f;
  std::optional<Result<void>> seen;
  const auto record = [&](Result<void> result) { seen = std::move(result); };
  ASSERT_TRUE(f.forwarding->open());
  f.forwarding->closing_on_success(record)(make_error(Errc::backend, "cannot stop"));
  ASSERT_TRUE(seen && !*seen);
  EXPECT_TRUE(f.reaches_guest());
  f.forwarding->closing_on_success(record)(Result<void>());
  ASSERT_TRUE(seen && *seen);
  EXPECT_FALSE(f.reaches_guest());
}

// A completion VZ calls after the engine (and its reference) is gone still closes safely.
TEST(VzNatForwarding, ACompletionKeepsItAliveAfterTheEngineLetGo) {
  Fixture f;
  ASSERT_TRUE(f.forwarding->open());
  int calls = 0;
  auto done = f.forwarding->closing_on_failure([&](Result<void>) { ++calls; });
  f.forwarding.reset();  // the engine's destructor
  EXPECT_TRUE(f.reaches_guest()) << "still open: the completion holds it";
  done(make_error(Errc::cancelled, "gone"));
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(f.reaches_guest());
}

// The guest stopping the machine, or VZ failing, runs the engine's hook before the listener;
// also after close() (the destructor already undid it then, and undoing twice is safe).
TEST(VzNatForwarding, TheRunEndedHookClosesTheForwards) {
  Fixture f;
  auto link = EngineLink::create();
  link->set_on_run_ended([forwarding = f.forwarding] { forwarding->close(); });
  ASSERT_TRUE(f.forwarding->open());
  link->guest_stopped();
  EXPECT_FALSE(f.forwarding->is_open());
  ASSERT_TRUE(f.forwarding->open());
  link->engine_failed(Error(Errc::backend, "VZ stopped"));
  EXPECT_FALSE(f.forwarding->is_open());
  ASSERT_TRUE(f.forwarding->open());
  link->close();
  link->guest_stopped();
  EXPECT_FALSE(f.forwarding->is_open());
}

TEST(VzNatForwarding, GuestAddressesReadTheLeases) {
  Fixture f;
  auto addresses = f.forwarding->guest_addresses();
  ASSERT_TRUE(addresses) << addresses.error().to_string();
  EXPECT_EQ(*addresses, (std::vector<GuestAddress>{{0, "127.0.0.1"}}));
}

// ---- the plan -----------------------------------------------------------------------------

PortForward forward(Protocol protocol, std::uint32_t host_port, std::uint32_t guest_port) {
  PortForward f;
  f.protocol = protocol;
  f.host_port = host_port;
  f.guest_port = guest_port;
  return f;
}

TEST(VzNatPlan, TcpForwardsArePlannedForEveryNatNetwork) {
  test::Scratch scratch;
  const auto web = forward(Protocol::tcp, 8080, 80);
  const auto ssh = forward(Protocol::tcp, 2222, 22);
  const auto config = test::built(scratch.linux_builder()
                                      .network(BridgedNetwork{"en0"})
                                      .network(NatNetwork{{web, ssh}})
                                      .nat_network());
  auto plan = make_plan(config, test::mac(14), PlanOptions{});
  ASSERT_TRUE(plan) << plan.error().to_string();
  const auto networks = nat_networks(*plan);
  ASSERT_EQ(networks.size(), 2U);
  EXPECT_EQ(networks[0].network, 1U);
  EXPECT_EQ(networks[0].mac, config.networks()[1].mac);
  EXPECT_EQ(networks[0].forwards, (std::vector<PortForward>{web, ssh}));
  EXPECT_EQ(networks[1].network, 2U);
  EXPECT_EQ(networks[1].mac, config.networks()[2].mac);
  EXPECT_TRUE(networks[1].forwards.empty());
}

// vmm's relay carries TCP only: a UDP forward is refused at create, never dropped.
TEST(VzNatPlan, UdpForwardsAreUnsupportedNamingTheForward) {
  test::Scratch scratch;
  const auto config = test::built(scratch.linux_builder().network(NatNetwork{
      {forward(Protocol::tcp, 8080, 80), forward(Protocol::udp, 5353, 53)}}));
  auto plan = make_plan(config, test::mac(14), PlanOptions{});
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code(), Errc::unsupported);
  EXPECT_THAT(plan.error().message(), HasSubstr("networks[0].forwards[1]: UDP forwards"));
  EXPECT_THAT(plan.error().message(), HasSubstr("TCP only"));
}

}  // namespace
}  // namespace vmm::vz
