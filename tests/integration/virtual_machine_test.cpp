// The lifecycle against a real hypervisor: QEMU (TCG on CI machines) booting the test guest.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/statvfs.h>

#include <chrono>
#include <cstdlib>
#include <future>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <thread>

#include "guest_fixture.hpp"
#include "support/guest_agent.hpp"
#include "support/wait.hpp"
#include "snapshot/bundle.hpp"

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
    subscription_ = vm_->on_state_change(states_.observer());
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

// The directory's entries, with sizes: what a failed save must leave as it was.
std::vector<std::pair<std::string, std::uintmax_t>> listing(const std::filesystem::path& dir) {
  std::vector<std::pair<std::string, std::uintmax_t>> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    files.emplace_back(entry.path().filename().string(),
                       entry.is_regular_file() ? entry.file_size() : 0);
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Restores `bundle` into a fresh VM made from its manifest; returns the counter it continues
// with after resume (checked to be past `saved_at`).
void expect_restores_and_continues(const std::filesystem::path& bundle, long saved_at) {
  SCOPED_TRACE(bundle.string());
  auto manifest = read_snapshot_manifest(bundle);
  ASSERT_TRUE(manifest) << manifest.error().to_string();
  EXPECT_EQ(manifest->format_version, SnapshotManifest::current_format_version);
  ASSERT_EQ(manifest->digests.count("state.qemu"), 1u);
  GuestConsole console;
  auto vm = VirtualMachine::create(manifest->config, guest_create_options(console));
  ASSERT_TRUE(vm) << vm.error().to_string();
  auto restored = (*vm)->restore(bundle).get();
  ASSERT_TRUE(restored) << restored.error().to_string();
  ASSERT_TRUE((*vm)->resume().get());
  const auto next = console.wait_counter_above(saved_at, kEvent);
  EXPECT_TRUE(next.has_value()) << "the restored guest did not continue its counter";
  ASSERT_TRUE((*vm)->stop().get());
}

// QEMU refuses to migrate twice from one pause ("Can't migrate the vm that was paused due to
// previous migration"); vmm must save any number of times, after successes and failures.
TEST_F(VirtualMachineTest, SavesRepeatedlyFromOnePauseAndAfterFailures) {
  boot();
  ASSERT_TRUE(console_.wait_counter_above(1, kEvent));
  ASSERT_TRUE(vm_->pause().get());
  std::this_thread::sleep_for(300ms);  // counter lines in flight arrive
  const long saved_at = console_.last_counter();
  const auto a = dir_.path() / "a";
  const auto b = dir_.path() / "b";
  const auto c = dir_.path() / "c";

  // Out of space on a small tmpfs: io naming the state file, nothing left, the space free.
  // The first save streams from QEMU (whose migration then fails and leaves it in
  // postmigrate); a save after a successful one copies that one's file: both must behave.
  const auto small = dir_.path() / "small";
  std::filesystem::create_directory(small);
  ASSERT_EQ(std::system(("mount -t tmpfs -o size=4m vmm-test " + small.string()).c_str()), 0)
      << "the test needs root to mount a tmpfs";
  struct statvfs empty {};
  ASSERT_EQ(::statvfs(small.c_str(), &empty), 0);
  const auto expect_out_of_space = [&](const std::string& name) {
    SCOPED_TRACE(name);
    auto full = vm_->save(small / name).get();
    struct statvfs after {};
    ASSERT_EQ(::statvfs(small.c_str(), &after), 0);
    ASSERT_FALSE(full) << "4 MiB cannot hold the guest's state";
    EXPECT_EQ(full.error().code(), Errc::io) << full.error().to_string();
    EXPECT_THAT(full.error().message(), HasSubstr((small / name).string()));
    EXPECT_THAT(full.error().message(), HasSubstr("No space left on device"));
    EXPECT_EQ(full.error().message().find('\n'), std::string::npos);
    EXPECT_THAT(listing(small), ::testing::IsEmpty());
    EXPECT_EQ(after.f_bfree, empty.f_bfree) << "the failed save still holds space";
    EXPECT_EQ(vm_->state(), VmState::paused);
  };
  expect_out_of_space("streamed");
  // After the failed migration: saves again (QEMU leaves postmigrate first).
  auto first = vm_->save(a).get();
  ASSERT_TRUE(first) << first.error().to_string();
  expect_out_of_space("copied");
  std::system(("umount " + small.string()).c_str());

  auto again = vm_->save(a).get();  // the same bundle again
  ASSERT_TRUE(again) << again.error().to_string();
  auto other = vm_->save(b).get();  // and a new one
  ASSERT_TRUE(other) << other.error().to_string();
  EXPECT_EQ(vm_->state(), VmState::paused);
  // Same guest state: the same bytes.
  EXPECT_EQ(read_file(a / "state.qemu"), read_file(b / "state.qemu"));
  EXPECT_EQ(read_snapshot_manifest(a)->digests, read_snapshot_manifest(b)->digests);

  // A commit that fails after QEMU streamed the state (an injected manifest write error)
  // leaves the older bundle as it was and no staging directory; a retry then succeeds.
  const auto manifest_before = read_file(a / "manifest.json");
  const auto files_before = listing(a);
  detail::fail_next_commit_for_testing(Error(Errc::io, "injected manifest write error"));
  auto failed = vm_->save(a).get();
  ASSERT_FALSE(failed) << "the injected commit failure did not happen";
  EXPECT_THAT(failed.error().message(), HasSubstr("injected manifest write error"));
  EXPECT_EQ(vm_->state(), VmState::paused);
  EXPECT_EQ(read_file(a / "manifest.json"), manifest_before);
  EXPECT_EQ(listing(a), files_before);
  EXPECT_EQ(listing(dir_.path()).size(), 3u) << "a staging directory was left behind";
  auto retried = vm_->save(c).get();
  ASSERT_TRUE(retried) << retried.error().to_string();

  // A flipped byte at 3/4 of a state file is refused at restore, naming the file, before QEMU.
  const auto damaged = dir_.path() / "damaged";
  std::filesystem::copy(b, damaged, std::filesystem::copy_options::recursive);
  {
    std::fstream state(damaged / "state.qemu", std::ios::in | std::ios::out | std::ios::binary);
    const auto size = std::filesystem::file_size(damaged / "state.qemu");
    state.seekg(static_cast<std::streamoff>(size * 3 / 4));
    char byte = 0;
    state.read(&byte, 1);
    byte = static_cast<char>(byte ^ 0x01);
    state.seekp(static_cast<std::streamoff>(size * 3 / 4));
    state.write(&byte, 1);
  }
  ASSERT_TRUE(vm_->stop().get());
  auto refused = vm_->restore(damaged).get();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Errc::io);
  EXPECT_THAT(refused.error().message(), HasSubstr((damaged / "state.qemu").string()));
  EXPECT_EQ(vm_->state(), VmState::stopped);
  EXPECT_THAT(child_qemu_pids(), ::testing::IsEmpty()) << "refused before starting QEMU";

  // Every good bundle restores and the guest continues from where it was saved.
  for (const auto& bundle : {a, b, c}) expect_restores_and_continues(bundle, saved_at);
}

// QEMU dies while a save streams: the VM is in error by the time the save completes (never
// `paused` with no hypervisor), and observers never see saving -> paused.
TEST_F(VirtualMachineTest, HypervisorDeathDuringASaveEndsInErrorBeforeTheCompletion) {
  boot();
  ASSERT_TRUE(vm_->pause().get());
  const auto pids = child_qemu_pids();
  ASSERT_EQ(pids.size(), 1u);
  // Frozen, QEMU cannot finish the save before it is killed: the kill lands mid-save.
  ASSERT_EQ(::kill(pids[0], SIGSTOP), 0);
  std::promise<std::pair<Result<void>, VmState>> completion;
  vm_->save(dir_.path() / "snap", [&](Result<void> result) {
    completion.set_value({std::move(result), vm_->state()});
  });
  ASSERT_TRUE(states_.wait_for(VmState::saving, kEvent));
  std::this_thread::sleep_for(200ms);  // the engine is waiting on QEMU
  ASSERT_EQ(::kill(pids[0], SIGKILL), 0);
  auto [result, state_then] = completion.get_future().get();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), Errc::backend);
  EXPECT_EQ(state_then, VmState::error) << "the VM was " << to_string(state_then)
                                        << " when the save completed";
  const auto changes = states_.changes();
  for (std::size_t i = 1; i < changes.size(); ++i) {
    EXPECT_FALSE(changes[i].from == VmState::saving && changes[i].to == VmState::paused)
        << "observers saw saving -> paused";
  }
  EXPECT_EQ(changes.back().to, VmState::error);
  auto retry = vm_->save(dir_.path() / "again").get();
  ASSERT_FALSE(retry);
  EXPECT_EQ(retry.error().code(), Errc::invalid_state);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "snap"));
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
