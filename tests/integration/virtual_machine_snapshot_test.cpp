// Snapshots against a real hypervisor: a VM of the test guest saved and restored, and a restore
// refused for a machine that does not match the bundle.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "guest_fixture.hpp"
#include "snapshot/bundle.hpp"
#include "support/guest_agent.hpp"
#include "support/wait.hpp"
#include "virtual_machine_fixture.hpp"

namespace vmm::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using vm_tests::VirtualMachineTest;

// The guest's clock, in whole seconds since the epoch, through the command agent, and the host's.
long guest_seconds(support::GuestAgent& agent) {
  auto reply = agent.run("date +%s", kEvent);
  EXPECT_TRUE(reply) << reply.error().to_string();
  if (!reply || reply->status != 0 || reply->output.empty()) return 0;
  return std::stol(reply->output);
}
long host_seconds() {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count());
}

// Snapshots across devices (issue #10): a raw disk and two console ports (the command agent's
// and qemu-ga's, org.qemu.guest_agent.0) go through a save, a stop, ~3 s on disk and a restore;
// the guest continues (its counter, the disk it wrote, its agent) and its clock is the host's
// again, set by vmm through qemu-ga when the restored VM is resumed. Before that, in the same
// boot: sync_guest_time() puts right a clock that was set wrong in the guest.
TEST_F(VirtualMachineTest, SaveAndRestoreContinueTheGuestCounter) {
  const auto disk = dir_.path() / "disk.img";
  { std::ofstream(disk, std::ios::binary).put('\0'); }
  std::filesystem::resize_file(disk, 8 * 1024 * 1024);
  vm_ = create(guest_config(assets_, "vmm.agent=1 vmm.write_vda=vmm-disk-before-save")
                   .disk(disk)
                   .console_port(std::string(support::agent_port_name))
                   .console_port("org.qemu.guest_agent.0"));
  subscription_ = vm_->on_state_change(states_.observer());
  // Not running yet: refused at once.
  auto early = vm_->sync_guest_time().get();
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().code(), Errc::invalid_state);
  auto started = vm_->start().get();
  ASSERT_TRUE(started) << started.error().to_string();
  ASSERT_TRUE(console_.wait_for_line("VMM-GUEST-READY", kBoot)) << "the guest did not boot";
  ASSERT_TRUE(console_.wait_for_line("VMM-DISK-WRITTEN vda", kEvent));
  auto channel = vm_->console_port(support::agent_port_name);
  ASSERT_TRUE(channel) << channel.error().to_string();
  support::GuestAgent agent(std::move(*channel));
  auto qga = agent.run("pidof qemu-ga", kBoot);
  ASSERT_TRUE(qga) << qga.error().to_string();
  ASSERT_EQ(qga->status, 0) << "qemu-ga is not running in the guest";

  // sync_guest_time(): a clock a day behind comes back to the host's.
  auto wrong = agent.run("date -s @" + std::to_string(host_seconds() - 86400) + " >/dev/null", kEvent);
  ASSERT_TRUE(wrong && wrong->status == 0) << (wrong ? wrong->output : wrong.error().to_string());
  ASSERT_LT(guest_seconds(agent), host_seconds() - 80000) << "the guest clock was not set wrong";
  auto synced = support::await(vm_->sync_guest_time(), kEvent);
  ASSERT_TRUE(synced) << synced.error().to_string();
  EXPECT_LE(std::labs(guest_seconds(agent) - host_seconds()), 2);

  ASSERT_TRUE(console_.wait_counter_above(2, kEvent));
  ASSERT_TRUE(vm_->pause().get());
  std::this_thread::sleep_for(300ms);
  const long saved_at = console_.last_counter();
  const auto bundle = dir_.path() / "snap";
  auto saved = vm_->save(bundle).get();
  ASSERT_TRUE(saved) << saved.error().to_string();
  EXPECT_EQ(vm_->state(), VmState::paused);
  EXPECT_TRUE(std::filesystem::exists(bundle / "manifest.json"));

  auto manifest = read_snapshot_manifest(bundle);
  ASSERT_TRUE(manifest) << manifest.error().to_string();
  EXPECT_EQ(manifest->backend, "qemu");
  EXPECT_EQ(manifest->config, vm_->config());

  ASSERT_TRUE(vm_->stop().get());
  // The snapshot sits on disk a while: without vmm's sync the guest's clock would be this far
  // (and the save and restore) behind after the restore.
  std::this_thread::sleep_for(3s);
  auto restored = vm_->restore(bundle).get();
  ASSERT_TRUE(restored) << restored.error().to_string();
  EXPECT_EQ(vm_->state(), VmState::paused);
  ASSERT_TRUE(vm_->resume().get());
  const auto next = console_.wait_counter_above(saved_at, kEvent);
  ASSERT_TRUE(next) << "the counter did not continue after restore";
  EXPECT_EQ(console_.count("VMM-GUEST-READY"), 1) << "the guest rebooted instead of continuing";
  // The restored run's channels: the command agent answers, the disk holds what the guest
  // wrote before the save, and the clock was set on the resume (vmm does it in the background:
  // wait for it).
  auto after = vm_->console_port(support::agent_port_name);
  ASSERT_TRUE(after) << after.error().to_string();
  support::GuestAgent restored_agent(std::move(*after));
  auto on_disk = restored_agent.run("head -c 21 /dev/vda", kEvent);
  ASSERT_TRUE(on_disk) << on_disk.error().to_string();
  EXPECT_EQ(on_disk->output, "vmm-disk-before-save\n");
  long drift = 0;
  EXPECT_TRUE(support::wait_until(
      [&] {
        drift = std::labs(guest_seconds(restored_agent) - host_seconds());
        return drift <= 2;
      },
      kEvent))
      << "the guest clock is " << drift << " s off the host's after the restore";
}

TEST_F(VirtualMachineTest, RestoreIsRefusedForAMachineThatDoesNotMatch) {
  auto config = guest_config(assets_).nat_network().build();
  ASSERT_TRUE(config);
  vm_ = *VirtualMachine::create(*config, guest_create_options(console_));
  ASSERT_TRUE(vm_->start().get());
  ASSERT_TRUE(console_.wait_for_line("VMM-GUEST-READY", kBoot));
  ASSERT_TRUE(vm_->pause().get());
  const auto bundle = dir_.path() / "snap";
  ASSERT_TRUE(vm_->save(bundle).get());
  ASSERT_TRUE(vm_->stop().get());

  // Same machine but another MAC: the guest's NIC would change under it.
  auto other_config = guest_config(assets_)
                          .nat_network(*MacAddress::parse("52:54:00:aa:bb:cc"))
                          .machine_identifier(config->machine_identifier())
                          .build();
  ASSERT_TRUE(other_config);
  GuestConsole other_console;
  auto other = *VirtualMachine::create(*other_config, guest_create_options(other_console));
  auto refused = other->restore(bundle).get();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Errc::invalid_config);
  EXPECT_THAT(refused.error().message(), HasSubstr("MAC"));
  EXPECT_EQ(other->state(), VmState::stopped);
  EXPECT_THAT(child_qemu_pids(), ::testing::IsEmpty()) << "refused before starting QEMU";

  // A different machine identifier is refused too.
  auto third_config = guest_config(assets_).nat_network(config->network_macs()[0]).build();
  ASSERT_TRUE(third_config);
  auto third = *VirtualMachine::create(*third_config, guest_create_options(other_console));
  auto refused_again = third->restore(bundle).get();
  ASSERT_FALSE(refused_again);
  EXPECT_THAT(refused_again.error().message(), HasSubstr("machine identifier"));

  // The matching config, rebuilt from the manifest, restores.
  auto manifest = read_snapshot_manifest(bundle);
  ASSERT_TRUE(manifest);
  auto same = *VirtualMachine::create(manifest->config, guest_create_options(other_console));
  auto restored = same->restore(bundle).get();
  EXPECT_TRUE(restored) << restored.error().to_string();
}

}  // namespace
}  // namespace vmm::testing
