// save_blocker(): whether save/restore can work, and why not, before anything runs.
#include <gtest/gtest.h>

#include "test_support.hpp"
#include "vz/plan.hpp"

namespace vmm::vz {
namespace {

using test::mac;
using test::Scratch;

void expect_blocked(const std::optional<Error>& blocker, const std::vector<std::string>& words) {
  ASSERT_TRUE(blocker);
  EXPECT_EQ(blocker->code(), Errc::unsupported);
  for (const auto& word : words) {
    EXPECT_NE(blocker->message().find(word), std::string::npos)
        << "\"" << word << "\" missing from: " << blocker->message();
  }
}

TEST(VzSaveSupport, PlainLinuxVmOnArm64Macos14CanBeSaved) {
  Scratch scratch;
  const auto config = test::built(scratch.linux_builder().nat_network().vsock().entropy());
  EXPECT_FALSE(save_blocker(config, mac(14)));
  auto plan = make_plan(config, mac(14), PlanOptions{});
  ASSERT_TRUE(plan);
  EXPECT_FALSE(plan->save_blocker);
}

TEST(VzSaveSupport, NeedsMacos14) {
  Scratch scratch;
  const auto config = test::built(scratch.linux_builder());
  expect_blocked(save_blocker(config, mac(13, 6)), {"macOS 14", "13.6"});
  // The plan itself succeeds: only save and restore are refused.
  auto plan = make_plan(config, mac(13, 6), PlanOptions{});
  ASSERT_TRUE(plan);
  expect_blocked(plan->save_blocker, {"macOS 14"});
}

TEST(VzSaveSupport, NeedsArm64) {
  Scratch scratch;
  const auto config = test::built(scratch.linux_builder());
  expect_blocked(save_blocker(config, mac(15, 0, HostArch::x86_64)), {"arm64", "x86_64"});
}

TEST(VzSaveSupport, DirectorySharesBlockSaving) {
  Scratch scratch;
  const auto config = test::built(scratch.linux_builder().share("work", scratch.directory("w")));
  expect_blocked(save_blocker(config, mac(15)), {"directory share", "\"work\""});
}

TEST(VzSaveSupport, RosettaShareBlocksSaving) {
  Scratch scratch;
  const auto config = test::built(scratch.linux_builder().rosetta("rosetta"));
  expect_blocked(save_blocker(config, mac(15)), {"Rosetta", "\"rosetta\""});
}

TEST(VzSaveSupport, SerialPortDoesNotBlockSaving) {
  Scratch scratch;
  // vmm's console is a serial port (serialPorts), not a console device (consoleDevices).
  const auto config =
      test::built(scratch.linux_builder().serial(SerialToFile{scratch.dir() / "log", true}));
  EXPECT_FALSE(save_blocker(config, mac(14)));
}

// The plan blocks only what is known to be refused; for the rest (entropy, which tart leaves
// out of suspendable VMs without a documented reason, the balloon, block devices, the console-line
// port) validateSaveRestoreSupportWithError: is the authority, so the plan must not refuse early.
TEST(VzSaveSupport, UnknownCasesAreLeftToTheFramework) {
  Scratch scratch;
  const auto disk = scratch.file("dev-disk");
  const auto config = test::built(scratch.linux_builder().entropy().balloon().vsock().disk(
      DiskImage{disk, DiskFormat::raw, false, CachingMode::cached, SyncMode::full,
                BlockBus::virtio, std::nullopt, {}}));
  PlanOptions options{{}, true, [disk](const std::filesystem::path& path) { return path == disk; }};
  auto plan = make_plan(config, mac(14), options);
  ASSERT_TRUE(plan) << plan.error().to_string();
  ASSERT_TRUE(plan->storage[0].block_device);
  ASSERT_TRUE(has_serial_port(*plan));
  EXPECT_FALSE(plan->save_blocker);
  // While a directory share is known to be refused, whatever else the VM has.
  const auto shared = test::built(
      scratch.linux_builder().entropy().share("data", scratch.directory("data")));
  expect_blocked(save_blocker(shared, mac(14)), {"directory shares", "\"data\""});
}

}  // namespace
}  // namespace vmm::vz
