// Saves that fail against a real hypervisor, and what the VM and its bundles look like after:
// an unusable directory, a full disk, a failed manifest write, QEMU dying mid-save, and saving
// again from the same pause.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "guest_fixture.hpp"
#include "snapshot/bundle.hpp"
#include "virtual_machine_fixture.hpp"

namespace vmm::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using vm_tests::read_file;
using vm_tests::VirtualMachineTest;

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

}  // namespace
}  // namespace vmm::testing
