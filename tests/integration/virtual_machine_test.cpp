// The lifecycle against a real hypervisor: QEMU (TCG on CI machines) booting the test guest.
// Snapshots are in virtual_machine_snapshot_test.cpp, failed and repeated saves in
// virtual_machine_save_failure_test.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <utility>

#include "guest_fixture.hpp"
#include "virtual_machine_fixture.hpp"

namespace vmm::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using vm_tests::read_file;
using vm_tests::VirtualMachineTest;

TEST_F(VirtualMachineTest, BootsToTheReadyMarkerAndStops) {
  boot();
  ASSERT_TRUE(console_.wait_counter_above(0, kEvent));
  const auto qemus = child_qemu_pids();
  ASSERT_EQ(qemus.size(), 1u);
  // The accelerator the VM reports is the one QEMU was started with (tcg here: no /dev/kvm).
  EXPECT_NE(vm_->acceleration(), Acceleration::automatic);
  std::ifstream cmdline_file("/proc/" + std::to_string(qemus[0]) + "/cmdline");
  const std::string cmdline((std::istreambuf_iterator<char>(cmdline_file)),
                            std::istreambuf_iterator<char>());
  EXPECT_NE(cmdline.find(std::string("-accel") + '\0' + std::string(to_string(vm_->acceleration())) + '\0'),
            std::string::npos)
      << "QEMU's command line does not run with " << to_string(vm_->acceleration());
  auto stopped = vm_->stop().get();
  ASSERT_TRUE(stopped) << stopped.error().to_string();
  EXPECT_EQ(vm_->state(), VmState::stopped);
  EXPECT_THAT(child_qemu_pids(), ::testing::IsEmpty());
  // The future is ready once the state changed; observers hear of it on the callback thread.
  ASSERT_TRUE(states_.wait_for(VmState::stopped, kEvent));
  const auto changes = states_.changes();
  ASSERT_GE(changes.size(), 4u);
  EXPECT_EQ(changes[0].to, VmState::starting);
  EXPECT_EQ(changes[1].to, VmState::running);
  EXPECT_EQ(changes[2].to, VmState::stopping);
  EXPECT_EQ(changes[3].to, VmState::stopped);
}

TEST_F(VirtualMachineTest, PauseFreezesTheGuestAndResumeContinuesIt) {
  boot();
  ASSERT_TRUE(console_.wait_counter_above(1, kEvent));
  ASSERT_TRUE(vm_->pause().get());
  EXPECT_EQ(vm_->state(), VmState::paused);
  // Let lines already in flight arrive, then nothing more may come while paused.
  std::this_thread::sleep_for(500ms);
  const long frozen = console_.last_counter();
  std::this_thread::sleep_for(1s);  // five guest ticks: a running guest would have printed
  EXPECT_EQ(console_.last_counter(), frozen) << "the guest ran while paused";
  ASSERT_TRUE(vm_->resume().get());
  EXPECT_EQ(vm_->state(), VmState::running);
  EXPECT_TRUE(console_.wait_counter_above(frozen, kEvent)) << "the guest did not continue";
}

TEST_F(VirtualMachineTest, RequestStopLetsTheGuestPowerOff) {
  boot();
  auto requested = vm_->request_stop().get();
  ASSERT_TRUE(requested) << requested.error().to_string();
  ASSERT_TRUE(states_.wait_for(VmState::stopped, kEvent)) << "the guest did not power off";
  EXPECT_EQ(vm_->state(), VmState::stopped);
}

TEST_F(VirtualMachineTest, GuestPoweroffIsObserved) {
  boot("vmm.poweroff_after=3");
  ASSERT_TRUE(states_.wait_for(VmState::stopped, kEvent));
  EXPECT_EQ(vm_->state(), VmState::stopped);
  EXPECT_GE(console_.last_counter(), 2);
  const auto changes = states_.changes();
  EXPECT_EQ(changes.back().from, VmState::running);
  EXPECT_TRUE(changes.back().reason.has_value()) << "observers should be told why it stopped";
  // A stopped VM starts again.
  auto restarted = vm_->start().get();
  EXPECT_TRUE(restarted) << restarted.error().to_string();
}

TEST_F(VirtualMachineTest, GuestPanicStopsTheMachine) {
  boot("vmm.panic_after=2");
  ASSERT_TRUE(states_.wait_for(VmState::stopped, kEvent));
  EXPECT_EQ(vm_->state(), VmState::stopped);
}

TEST_F(VirtualMachineTest, KilledHypervisorEndsInErrorAndObserversHearOfIt) {
  boot();
  const auto pids = child_qemu_pids();
  ASSERT_EQ(pids.size(), 1u);
  ASSERT_EQ(::kill(pids[0], SIGKILL), 0);
  ASSERT_TRUE(states_.wait_for(VmState::error, kEvent)) << "no error state after QEMU died";
  EXPECT_EQ(vm_->state(), VmState::error);
  ASSERT_TRUE(vm_->last_error().has_value());
  EXPECT_EQ(vm_->last_error()->code(), Errc::backend);
  const auto changes = states_.changes();
  EXPECT_TRUE(changes.back().reason.has_value());
  // Operations on a dead machine fail fast instead of hanging.
  auto paused = vm_->pause().get();
  ASSERT_FALSE(paused);
  EXPECT_EQ(paused.error().code(), Errc::invalid_state);
  // And the machine can be started again from error.
  auto restarted = vm_->start().get();
  EXPECT_TRUE(restarted) << restarted.error().to_string();
}

TEST_F(VirtualMachineTest, TransitionsTheStateDoesNotAllowAreRejected) {
  vm_ = create(guest_config(assets_));
  for (auto [name, result] : {std::pair{"pause", vm_->pause().get()},
                              std::pair{"resume", vm_->resume().get()},
                              std::pair{"stop", vm_->stop().get()},
                              std::pair{"save", vm_->save(dir_.path() / "x").get()}}) {
    ASSERT_FALSE(result) << name;
    EXPECT_EQ(result.error().code(), Errc::invalid_state) << name;
    EXPECT_THAT(result.error().message(), HasSubstr("stopped")) << name;
  }
  EXPECT_THAT(child_qemu_pids(), ::testing::IsEmpty());
  ASSERT_TRUE(vm_->start().get());
  auto again = vm_->start().get();
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), Errc::invalid_state);
  EXPECT_THAT(again.error().message(), HasSubstr("running"));
  auto restore = vm_->restore(dir_.path() / "x").get();
  ASSERT_FALSE(restore);
  EXPECT_EQ(restore.error().code(), Errc::invalid_state);
  auto save = vm_->save(dir_.path() / "x").get();
  ASSERT_FALSE(save);
  EXPECT_EQ(save.error().code(), Errc::invalid_state);
}

TEST_F(VirtualMachineTest, ReleasingTheLastReferenceStopsQemu) {
  boot();
  ASSERT_EQ(child_qemu_pids().size(), 1u);
  subscription_.reset();
  vm_.reset();
  EXPECT_THAT(child_qemu_pids(), ::testing::IsEmpty());
}

TEST_F(VirtualMachineTest, SerialConsoleAlsoGoesToAFile) {
  const auto log = dir_.path() / "console.log";
  vm_ = create(guest_config(assets_).serial(SerialToFile{log, false}));
  ASSERT_TRUE(vm_->start().get());
  ASSERT_TRUE(console_.wait_for_line("VMM-GUEST-READY", kBoot));
  ASSERT_TRUE(vm_->stop().get());
  EXPECT_THAT(read_file(log), HasSubstr("VMM-GUEST-READY"));
}

}  // namespace
}  // namespace vmm::testing
