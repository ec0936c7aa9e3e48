// Console ports on VZ: the plan's VZVirtioConsoleDeviceConfiguration ports, the save blocker a
// console device is, and the channels (console_ports.hpp) the .mm wraps.
#include "vz/console_ports.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "test_support.hpp"
#include "vz/plan.hpp"

namespace vmm::vz {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using test::mac;
using test::Scratch;

TEST(VzConsolePorts, PlanHasOnePortPerNameInOrder) {
  Scratch scratch;
  const auto config =
      test::built(scratch.linux_builder().console_port("vmm.agent").console_port("data"));
  auto plan = make_plan(config, mac(13), PlanOptions{});
  ASSERT_TRUE(plan) << plan.error().to_string();
  EXPECT_THAT(plan->console_ports, ElementsAre("vmm.agent", "data"));
  auto none = make_plan(test::built(scratch.linux_builder()), mac(13), PlanOptions{});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->console_ports.empty());
}

TEST(VzConsolePorts, AConsoleDeviceBlocksSaveNamingThePort) {
  Scratch scratch;
  const auto config = test::built(scratch.linux_builder().console_port("vmm.agent"));
  const auto blocker = save_blocker(config, mac(14));
  ASSERT_TRUE(blocker);
  EXPECT_EQ(blocker->code(), Errc::unsupported);
  EXPECT_THAT(blocker->message(), HasSubstr("console_ports[0] \"vmm.agent\""));
  auto plan = make_plan(config, mac(14), PlanOptions{});
  ASSERT_TRUE(plan);
  ASSERT_TRUE(plan->save_blocker);
  EXPECT_EQ(plan->save_blocker->message(), blocker->message());
}

TEST(VzConsolePorts, ChannelsCarryBytesBothWaysThroughTheHostEndsDups) {
  auto channels = make_console_port_channels(2);
  ASSERT_TRUE(channels) << channels.error().to_string();
  ASSERT_EQ(channels->size(), 2U);
  std::vector<FileDescriptor> hosts;
  for (auto& channel : *channels) hosts.push_back(std::move(channel.host));
  auto host = dup_console_port(hosts, 1);
  ASSERT_TRUE(host) << host.error().to_string();
  auto& vm = (*channels)[1];
  // Host -> guest: what VZ reads from its reading handle.
  ASSERT_EQ(::write(host->get(), "to-guest", 8), 8);
  char buffer[16] = {};
  ASSERT_EQ(::read(vm.vm_read.get(), buffer, sizeof buffer), 8);
  EXPECT_EQ(std::string(buffer, 8), "to-guest");
  // Guest -> host: what VZ writes to its writing handle arrives on every dup of the host end.
  ASSERT_EQ(::write(vm.vm_write.get(), "to-host", 7), 7);
  ASSERT_EQ(::read(hosts[1].get(), buffer, sizeof buffer), 7);
  EXPECT_EQ(std::string(buffer, 7), "to-host");
  // No such port.
  auto missing = dup_console_port(hosts, 2);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Errc::invalid_state);
}

}  // namespace
}  // namespace vmm::vz
