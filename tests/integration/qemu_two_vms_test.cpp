// Two VMs at once in one process: started, used and stopped together, with no crosstalk. Each
// guest's agent (over its own console port) answers with its own kernel command line, and what
// one guest prints reaches only its own VM's console callback. The two are joined by a file
// handle network (the two ends of one SOCK_DGRAM socketpair) with static addresses, and ping
// each other across it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "guest_fixture.hpp"
#include "support/guest_agent.hpp"
#include "support/wait.hpp"

#if defined(__linux__)  // the QEMU backend runs on Linux only

namespace vmm::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr auto kTwoGuestsBoot = std::chrono::milliseconds(240s);

TEST(QemuTwoVmsTest, TwoGuestsAtOnceKeepTheirPortsAndConsolesApart) {
  const auto assets = find_guest_assets();
  VMM_REQUIRE_GUEST(assets);
  const std::array<std::string, 2> names = {"alpha", "bravo"};
  const std::array<std::string, 2> addresses = {"10.9.0.1", "10.9.0.2"};
  // The link between the guests: each VM borrows one end for its life.
  int ends[2] = {-1, -1};
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, ends), 0);
  const std::array<FileDescriptor, 2> link = {FileDescriptor(ends[0]), FileDescriptor(ends[1])};
  std::array<GuestConsole, 2> consoles;
  std::array<std::shared_ptr<VirtualMachine>, 2> vms;
  for (std::size_t i = 0; i < 2; ++i) {
    // The test guest's init brings eth0 up with vmm.net_address before it is ready.
    auto config = guest_config(assets, "vmm.agent=1 vmm.name=" + names[i] +
                                           " vmm.net_address=" + addresses[i] + "/24")
                      .console_port(std::string(support::agent_port_name))
                      .network(FileHandleNetwork{link[i].get(), 1500})
                      .build();
    ASSERT_TRUE(config) << config.error().to_string();
    auto vm = VirtualMachine::create(*config, guest_create_options(consoles[i]));
    ASSERT_TRUE(vm) << vm.error().to_string();
    vms[i] = *vm;
  }
  // Both start before either is used.
  auto first = vms[0]->start();
  auto second = vms[1]->start();
  ASSERT_TRUE(support::await(std::move(first), kTwoGuestsBoot));
  ASSERT_TRUE(support::await(std::move(second), kTwoGuestsBoot));

  std::vector<support::GuestAgent> agents;
  for (std::size_t i = 0; i < 2; ++i) {
    auto channel = vms[i]->console_port(support::agent_port_name);
    ASSERT_TRUE(channel) << channel.error().to_string();
    auto& agent = agents.emplace_back(std::move(*channel));
    auto reply = agent.run("cat /proc/cmdline; echo console-of-" + names[i] + " >/dev/console",
                           kTwoGuestsBoot);
    ASSERT_TRUE(reply) << reply.error().to_string();
    EXPECT_EQ(reply->status, 0);
    EXPECT_THAT(reply->output, HasSubstr("vmm.name=" + names[i]));
    EXPECT_THAT(reply->output, Not(HasSubstr("vmm.name=" + names[1 - i])));
  }
  // The agent starts early in the guest's init; eth0 has its address once the guest printed
  // its ready marker. Then packets cross the socketpair both ways.
  for (std::size_t i = 0; i < 2; ++i) {
    ASSERT_TRUE(consoles[i].wait_for_line("VMM-GUEST-READY", kTwoGuestsBoot)) << names[i];
  }
  for (std::size_t i = 0; i < 2; ++i) {
    auto ping = agents[i].run("ping -c 2 -W 10 " + addresses[1 - i], kTwoGuestsBoot);
    ASSERT_TRUE(ping) << ping.error().to_string();
    EXPECT_EQ(ping->status, 0) << names[i] << ": " << ping->output;
    EXPECT_THAT(ping->output, HasSubstr("bytes from " + addresses[1 - i]));
  }
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_TRUE(consoles[i].wait_for_line("console-of-" + names[i], 60s)) << names[i];
  }
  // Each line reached its own VM only.
  EXPECT_EQ(consoles[0].count("console-of-" + names[1]), 0);
  EXPECT_EQ(consoles[1].count("console-of-" + names[0]), 0);

  auto stop_first = vms[0]->stop();
  auto stop_second = vms[1]->stop();
  EXPECT_TRUE(support::await(std::move(stop_first), kTwoGuestsBoot));
  EXPECT_TRUE(support::await(std::move(stop_second), kTwoGuestsBoot));
}

}  // namespace
}  // namespace vmm::testing

#endif
