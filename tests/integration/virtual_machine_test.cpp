// The lifecycle against a real hypervisor: QEMU (TCG on CI machines) booting the test guest.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <thread>

#include "guest_fixture.hpp"

namespace vmm::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

// TCG boots take ~2.5 s on an idle 2-core machine; a loaded one (or a sanitizer build) is
// slower. These bound hangs; they are not performance assertions.
constexpr auto kBoot = std::chrono::milliseconds(180s);
constexpr auto kEvent = std::chrono::milliseconds(60s);

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class VirtualMachineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    assets_ = find_guest_assets();
    VMM_REQUIRE_GUEST(assets_);
  }

  void TearDown() override {
    vm_.reset();
    // No QEMU may outlive its VirtualMachine.
    EXPECT_THAT(child_qemu_pids(), ::testing::IsEmpty());
  }

  std::shared_ptr<VirtualMachine> create(VmConfigBuilder builder) {
    auto config = builder.build();
    EXPECT_TRUE(config) << config.error().to_string();
    auto vm = VirtualMachine::create(*config, guest_create_options(console_));
    EXPECT_TRUE(vm) << vm.error().to_string();
    return *vm;
  }

  // Creates and starts the VM and waits for the guest's ready marker.
  void boot(std::string guest_options = {}) {
    vm_ = create(guest_config(assets_, std::move(guest_options)));
    subscription_ = vm_->on_state_change(states_.sink());
    auto started = vm_->start().get();
    ASSERT_TRUE(started) << started.error().to_string();
    ASSERT_EQ(vm_->state(), VmState::running);
    ASSERT_TRUE(console_.wait_for_line("VMM-GUEST-READY", kBoot)) << "the guest did not boot";
  }

  GuestAssets assets_;
  GuestConsole console_;
  StateLog states_;
  std::shared_ptr<VirtualMachine> vm_;
  Subscription subscription_;
  TempDir dir_;
};

TEST_F(VirtualMachineTest, BootsToTheReadyMarkerAndStops) {
  boot();
  ASSERT_TRUE(console_.wait_counter_above(0, kEvent));
  EXPECT_EQ(child_qemu_pids().size(), 1u);
  auto stopped = vm_->stop().get();
  ASSERT_TRUE(stopped) << stopped.error().to_string();
  EXPECT_EQ(vm_->state(), VmState::stopped);
  EXPECT_THAT(child_qemu_pids(), ::testing::IsEmpty());
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

TEST_F(VirtualMachineTest, SaveAndRestoreContinueTheGuestCounter) {
  boot();
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
  auto restored = vm_->restore(bundle).get();
  ASSERT_TRUE(restored) << restored.error().to_string();
  EXPECT_EQ(vm_->state(), VmState::paused);
  ASSERT_TRUE(vm_->resume().get());
  const auto next = console_.wait_counter_above(saved_at, kEvent);
  ASSERT_TRUE(next) << "the counter did not continue after restore";
  EXPECT_EQ(console_.count("VMM-GUEST-READY"), 1) << "the guest rebooted instead of continuing";
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

TEST_F(VirtualMachineTest, SaveIntoAnUnusableDirectoryFailsAndTheVmStaysPaused) {
  boot();
  ASSERT_TRUE(vm_->pause().get());
  // A path under a regular file cannot be created, even by root (who ignores permissions).
  const auto file = dir_.path() / "not-a-directory";
  std::ofstream(file) << "x";
  auto saved = vm_->save(file / "snap").get();
  ASSERT_FALSE(saved);
  EXPECT_EQ(saved.error().code(), Errc::io);
  EXPECT_THAT(saved.error().message(), HasSubstr("not-a-directory"));
  EXPECT_EQ(vm_->state(), VmState::paused);
  // The VM is unharmed: it saves elsewhere and resumes.
  EXPECT_TRUE(vm_->save(dir_.path() / "good").get());
  EXPECT_TRUE(vm_->resume().get());
}

TEST_F(VirtualMachineTest, FailedSaveLeavesTheOlderBundleIntact) {
  boot();
  ASSERT_TRUE(vm_->pause().get());
  const auto bundle = dir_.path() / "snap";
  ASSERT_TRUE(vm_->save(bundle).get());
  const auto manifest_before = read_file(bundle / "manifest.json");
  std::vector<std::pair<std::string, std::uintmax_t>> files_before;
  for (const auto& entry : std::filesystem::directory_iterator(bundle))
    files_before.emplace_back(entry.path().filename().string(), entry.file_size());

  // Make the second save fail part-way: with RLIMIT_FSIZE at 0 this process cannot write any
  // file (QEMU, started earlier, keeps its own limit), so writing the new manifest fails after
  // the new state file exists. SIGXFSZ is ignored so the write returns EFBIG instead.
  auto* previous_handler = ::signal(SIGXFSZ, SIG_IGN);
  rlimit previous{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &previous), 0);
  rlimit zero = previous;
  zero.rlim_cur = 0;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &zero), 0);
  auto failed = vm_->save(bundle).get();
  ::setrlimit(RLIMIT_FSIZE, &previous);
  ::signal(SIGXFSZ, previous_handler);

  ASSERT_FALSE(failed) << "the save should have failed to write its manifest";
  EXPECT_EQ(vm_->state(), VmState::paused);
  EXPECT_EQ(read_file(bundle / "manifest.json"), manifest_before);
  std::vector<std::pair<std::string, std::uintmax_t>> files_after;
  for (const auto& entry : std::filesystem::directory_iterator(bundle))
    files_after.emplace_back(entry.path().filename().string(), entry.file_size());
  std::sort(files_before.begin(), files_before.end());
  std::sort(files_after.begin(), files_after.end());
  EXPECT_EQ(files_after, files_before);
  // No temporary sibling is left behind.
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir_.path())) ++entries;
  EXPECT_EQ(entries, 1u);
  // And the older bundle still restores.
  ASSERT_TRUE(vm_->stop().get());
  auto restored = vm_->restore(bundle).get();
  EXPECT_TRUE(restored) << restored.error().to_string();
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
