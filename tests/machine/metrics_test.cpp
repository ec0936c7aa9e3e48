// VmMetrics as text and JSON, and the core's part of VirtualMachine::metrics(): the time in the
// current state, which a transition resets.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include <nlohmann/json.hpp>

#include "support/fake_vm.hpp"
#include "vmm/format.hpp"

namespace vmm::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

VmMetrics sample() {
  VmMetrics m;
  m.hypervisor_pid = 4242;
  m.cpu_user = 1500ms;
  m.cpu_system = 250ms;
  m.rss_bytes = 200ULL << 20;
  m.disks = {DiskMetrics{1, 2, 512, 4096}};
  m.taps = {TapMetrics{"vmmtap0", 3, 300, 4, 400}};
  m.uptime = 5000ms;
  m.state_time = 1200ms;
  return m;
}

TEST(VmMetrics, TextNamesEachFieldThatIsSet) {
  const auto text = fmt::format("{}", sample());
  EXPECT_THAT(text, HasSubstr("pid 4242"));
  EXPECT_THAT(text, HasSubstr("cpu user 1.50 s"));
  EXPECT_THAT(text, HasSubstr("rss 200.0 MiB"));
  EXPECT_THAT(text, HasSubstr("disk 0 read 1 ops 512 B write 2 ops 4096 B"));
  EXPECT_THAT(text, HasSubstr("tap vmmtap0 rx 3 pkts 300 B tx 4 pkts 400 B"));
  EXPECT_THAT(text, HasSubstr("in state 1200 ms"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("pss")));
}

TEST(VmMetrics, JsonLeavesOutWhatIsUnknown) {
  const auto j = nlohmann::json::parse(sample().to_json());
  EXPECT_EQ(j.at("hypervisor_pid"), 4242);
  EXPECT_EQ(j.at("cpu_user_us"), 1'500'000);
  EXPECT_EQ(j.at("disks")[0].at("write_bytes"), 4096);
  EXPECT_EQ(j.at("taps")[0].at("ifname"), "vmmtap0");
  EXPECT_EQ(j.at("state_time_ms"), 1200);
  EXPECT_FALSE(j.contains("pss_bytes"));
  EXPECT_FALSE(j.contains("balloon_actual_bytes"));
  const auto empty = nlohmann::json::parse(VmMetrics{}.to_json());
  EXPECT_EQ(empty.size(), 1U);  // only state_time_ms, which the core always knows
}

TEST(VmMetricsCore, StateTimeGrowsAndATransitionResetsIt) {
  TempDir dir;
  FakeVm fake{base_config(dir)};
  std::this_thread::sleep_for(1s);
  const auto stopped = fake.vm->metrics();
  EXPECT_GE(stopped.state_time, 1s);
  EXPECT_FALSE(stopped.hypervisor_pid);  // the fake engine has no process
  ASSERT_TRUE(fake.vm->start().get());
  // Measured from the transition to running, not from creation.
  EXPECT_LT(fake.vm->metrics().state_time, 1s);
}

}  // namespace
}  // namespace vmm::testing
