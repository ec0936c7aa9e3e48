// Templates and clones against real QEMU: a template VM with file-backed RAM is saved once (for
// the suite), then clones map its RAM file copy-on-write and continue its guest.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <thread>
#include <vector>

#include "guest_fixture.hpp"
#include "template_fixture.hpp"
#include "runtime/file_digest.hpp"

namespace vmm::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;


// The suite's template: booted once, counted a little, paused and saved.
struct Template {
  TempDir dir;
  fs::path bundle;
  long saved_at = -1;
  std::string failure;  // why it could not be made
};

Template* the_template = nullptr;

std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  return names;
}

CreateOptions file_backed(GuestConsole& console) {
  auto options = guest_create_options(console);
  options.file_backed_memory = true;
  return options;
}

class QemuTemplateTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    the_template = new Template;
    auto assets = find_guest_assets();
    if (!assets.missing.empty()) return;
    the_template->bundle = the_template->dir.path() / "template";
    auto made = make_template(assets, the_template->bundle);
    the_template->saved_at = made.saved_at;
    the_template->failure = made.failure;
  }
  static void TearDownTestSuite() {
    delete the_template;
    the_template = nullptr;
  }

  void SetUp() override {
    assets_ = find_guest_assets();
    VMM_REQUIRE_GUEST(assets_);
    ASSERT_TRUE(the_template->failure.empty()) << the_template->failure;
    bundle_ = the_template->bundle;
    auto manifest = read_snapshot_manifest(bundle_);
    ASSERT_TRUE(manifest) << manifest.error().to_string();
    manifest_.emplace(std::move(*manifest));
  }
  void TearDown() override { EXPECT_THAT(child_qemu_pids(), ::testing::IsEmpty()); }

  // A clone of the template, paused.
  std::shared_ptr<VirtualMachine> restore_clone(GuestConsole& console) {
    auto vm = VirtualMachine::create(manifest_->config, guest_create_options(console));
    EXPECT_TRUE(vm) << vm.error().to_string();
    if (!vm) return nullptr;
    auto restored = (*vm)->restore(bundle_).get();
    EXPECT_TRUE(restored) << restored.error().to_string();
    return restored ? *vm : nullptr;
  }

  GuestAssets assets_;
  fs::path bundle_;
  std::optional<SnapshotManifest> manifest_;
  TempDir dir_;
};

TEST_F(QemuTemplateTest, TheBundleHoldsTheRamFileAndOnlyTheDeviceState) {
  ASSERT_TRUE(manifest_->template_memory.has_value());
  EXPECT_EQ(manifest_->template_memory->file, "memory.ram");
  EXPECT_EQ(manifest_->template_memory->size, manifest_->config.memory().as_bytes());
  EXPECT_EQ(fs::file_size(bundle_ / "memory.ram"), manifest_->config.memory().as_bytes());
  // Device state only: a full save of this guest is ~90 MiB.
  const auto state_size = fs::file_size(bundle_ / manifest_->state_file);
  EXPECT_LT(state_size, 4u << 20) << "the state file carries the RAM";
  EXPECT_GT(state_size, 0u);
  EXPECT_EQ(manifest_->digests.count(manifest_->state_file), 1u);
}

// Three clones restore at once; each continues the template's counter on its own, and none
// of them writes the template's RAM file.
TEST_F(QemuTemplateTest, ClonesContinueTheCounterIndependentlyAndNeverWriteTheTemplate) {
  const auto ram = bundle_ / "memory.ram";
  auto digest_before = detail::digest_file(ram);
  ASSERT_TRUE(digest_before) << digest_before.error().to_string();
  struct stat before {};
  ASSERT_EQ(::stat(ram.c_str(), &before), 0);

  GuestConsole consoles[3];
  std::vector<std::future<std::shared_ptr<VirtualMachine>>> restoring;
  for (auto& console : consoles) {
    restoring.push_back(std::async(std::launch::async, [&] { return restore_clone(console); }));
  }
  std::vector<std::shared_ptr<VirtualMachine>> clones;
  for (auto& f : restoring) clones.push_back(f.get());
  for (const auto& clone : clones) ASSERT_NE(clone, nullptr);
  const long saved_at = the_template->saved_at;

  // The first clone runs well ahead while the others stay paused ...
  ASSERT_TRUE(clones[0]->resume().get());
  ASSERT_TRUE(consoles[0].wait_counter_above(saved_at + 20, kEvent)) << "clone 0 did not count";
  const long clone0_at = consoles[0].last_counter();
  // ... and they then start from the template's value, not from what clone 0 wrote. (Under
  // load, counter lines the template printed before its pause may not have reached saved_at,
  // so the bound is clone 0's progress, which shared memory would have handed on.)
  for (int i = 1; i < 3; ++i) {
    ASSERT_TRUE(clones[static_cast<std::size_t>(i)]->resume().get());
  }
  for (int i = 1; i < 3; ++i) {
    const auto first = consoles[i].wait_counter_above(-1, kEvent);
    ASSERT_TRUE(first) << "clone " << i << " did not continue";
    EXPECT_GT(*first, saved_at) << "clone " << i << " went back in time";
    EXPECT_LT(*first, clone0_at - 5) << "clone " << i << " saw clone 0's memory";
    ASSERT_TRUE(consoles[i].wait_counter_above(*first + 2, kEvent));
  }
  for (auto& console : consoles) {
    EXPECT_EQ(console.count("VMM-GUEST-READY"), 0) << "a clone booted instead of continuing";
  }
  for (const auto& clone : clones) ASSERT_TRUE(clone->stop().get());
  clones.clear();

  auto digest_after = detail::digest_file(ram);
  ASSERT_TRUE(digest_after) << digest_after.error().to_string();
  EXPECT_EQ(*digest_after, *digest_before) << "a clone wrote the template's RAM file";
  struct stat after {};
  ASSERT_EQ(::stat(ram.c_str(), &after), 0);
  EXPECT_EQ(after.st_size, before.st_size);
  EXPECT_EQ(after.st_blocks, before.st_blocks) << "a clone punched holes into the RAM file";
}

// Clones in other processes at once: two vmm_clone_process children and one clone here run
// from the same template together; each continues the template's guest, and the RAM file is
// untouched.
TEST_F(QemuTemplateTest, ClonesInSeveralProcessesRunFromOneTemplateAtOnce) {
  const auto ram = bundle_ / "memory.ram";
  auto digest_before = detail::digest_file(ram);
  ASSERT_TRUE(digest_before) << digest_before.error().to_string();
  const long saved_at = the_template->saved_at;
  const std::string command = fmt::format("'{}' '{}' {} 2>&1", VMM_CLONE_PROCESS_PATH,
                                          bundle_.string(), saved_at);
  std::vector<FILE*> children;
  for (int i = 0; i < 2; ++i) {
    FILE* child = ::popen(command.c_str(), "r");
    ASSERT_NE(child, nullptr) << "popen " << command;
    children.push_back(child);
  }
  GuestConsole console;
  auto clone = restore_clone(console);
  ASSERT_NE(clone, nullptr);
  ASSERT_TRUE(clone->resume().get());
  ASSERT_TRUE(console.wait_counter_above(saved_at + 3, kEvent)) << "the in-process clone";

  std::vector<std::string> pids;
  for (FILE* child : children) {
    std::string output;
    std::array<char, 256> chunk{};
    while (std::fgets(chunk.data(), static_cast<int>(chunk.size()), child) != nullptr) {
      output += chunk.data();
    }
    const int status = ::pclose(child);
    EXPECT_EQ(status, 0) << output;
    long first = -1, last = -1, pid = -1;
    ASSERT_EQ(std::sscanf(output.c_str(), "CLONE %ld %ld %ld", &first, &last, &pid), 3) << output;
    EXPECT_GT(first, saved_at) << "a clone process went back in time: " << output;
    EXPECT_GT(last, saved_at + 3) << output;
    EXPECT_GT(pid, 0) << output;
    pids.push_back(std::to_string(pid));
  }
  ASSERT_EQ(pids.size(), 2U);
  EXPECT_NE(pids[0], pids[1]) << "the two processes ran one QEMU";
  // The in-process clone ran alongside all the time.
  EXPECT_TRUE(console.wait_counter_above(console.last_counter(), kEvent).has_value());
  ASSERT_TRUE(clone->stop().get());

  auto digest_after = detail::digest_file(ram);
  ASSERT_TRUE(digest_after) << digest_after.error().to_string();
  EXPECT_EQ(*digest_after, *digest_before) << "a clone wrote the template's RAM file";
}

TEST_F(QemuTemplateTest, AClonesSavesAsAFullBundleThatRestores) {
  GuestConsole console;
  auto clone = restore_clone(console);
  ASSERT_NE(clone, nullptr);
  ASSERT_TRUE(clone->resume().get());
  ASSERT_TRUE(console.wait_counter_above(the_template->saved_at + 2, kEvent));
  ASSERT_TRUE(clone->pause().get());
  std::this_thread::sleep_for(300ms);
  const long clone_at = console.last_counter();
  // A clone's RAM is its template's: it cannot be a template itself, but saves in full.
  auto as_template = clone->save_template(dir_.path() / "not-a-template").get();
  ASSERT_FALSE(as_template);
  EXPECT_THAT(as_template.error().message(), HasSubstr("save_template:"));
  EXPECT_FALSE(fs::exists(dir_.path() / "not-a-template"));
  EXPECT_EQ(clone->state(), VmState::paused);
  const auto full = dir_.path() / "full";
  auto saved = clone->save(full).get();
  ASSERT_TRUE(saved) << saved.error().to_string();
  ASSERT_TRUE(clone->stop().get());
  clone.reset();

  auto manifest = read_snapshot_manifest(full);
  ASSERT_TRUE(manifest) << manifest.error().to_string();
  EXPECT_FALSE(manifest->template_memory.has_value());
  EXPECT_FALSE(fs::exists(full / "memory.ram"));
  GuestConsole restored_console;
  auto vm = VirtualMachine::create(manifest->config, guest_create_options(restored_console));
  ASSERT_TRUE(vm) << vm.error().to_string();
  auto restored = (*vm)->restore(full).get();
  ASSERT_TRUE(restored) << restored.error().to_string();
  ASSERT_TRUE((*vm)->resume().get());
  const auto next = restored_console.wait_counter_above(clone_at, kEvent);
  ASSERT_TRUE(next) << "the clone's full save did not continue its counter";
  ASSERT_TRUE((*vm)->stop().get());
}

TEST_F(QemuTemplateTest, RestoringIntoADifferentConfigIsRefusedNamingTheDifference) {
  // The template's identity, but more memory than its RAM file holds.
  auto config = guest_config(assets_)
                    .nat_network(manifest_->config.networks().at(0).mac)
                    .machine_identifier(manifest_->machine_identifier())
                    .memory(Size::mib(384))
                    .build();
  ASSERT_TRUE(config) << config.error().to_string();
  GuestConsole console;
  auto vm = VirtualMachine::create(*config, guest_create_options(console));
  ASSERT_TRUE(vm) << vm.error().to_string();
  auto restored = (*vm)->restore(bundle_).get();
  ASSERT_FALSE(restored);
  EXPECT_EQ(restored.error().code(), Errc::invalid_config);
  EXPECT_THAT(restored.error().message(), HasSubstr("memory"));
  EXPECT_THAT(restored.error().message(), HasSubstr("384"));
  EXPECT_EQ((*vm)->state(), VmState::stopped);
  EXPECT_THAT(child_qemu_pids(), ::testing::IsEmpty());
}

// A copy of the template's bundle whose RAM file `damage` changes.
fs::path damaged_copy(const fs::path& bundle, const fs::path& where,
                      const std::function<void(const fs::path&)>& damage) {
  fs::create_directory(where);
  for (const auto& entry : fs::directory_iterator(bundle)) {
    if (entry.path().filename() != "memory.ram") fs::copy_file(entry.path(), where / entry.path().filename());
  }
  damage(where / "memory.ram");
  return where;
}

TEST_F(QemuTemplateTest, AMissingOrTruncatedRamFileIsRefusedBeforeQemuStarts) {
  const auto missing = damaged_copy(bundle_, dir_.path() / "missing", [](const fs::path&) {});
  const auto truncated = damaged_copy(bundle_, dir_.path() / "truncated", [&](const fs::path& ram) {
    fs::copy_file(bundle_ / "memory.ram", ram);
    fs::resize_file(ram, 1 << 20);
  });
  struct Case {
    fs::path bundle;
    Errc code;
    std::string says;
  };
  for (const auto& c : {Case{missing, Errc::not_found, "does not exist"},
                        Case{truncated, Errc::io, "is truncated: 1048576 bytes"}}) {
    SCOPED_TRACE(c.bundle.string());
    GuestConsole console;
    auto vm = VirtualMachine::create(manifest_->config, guest_create_options(console));
    ASSERT_TRUE(vm) << vm.error().to_string();
    auto restored = (*vm)->restore(c.bundle).get();
    ASSERT_FALSE(restored);
    EXPECT_EQ(restored.error().code(), c.code) << restored.error().to_string();
    EXPECT_THAT(restored.error().message(), HasSubstr((c.bundle / "memory.ram").string()));
    EXPECT_THAT(restored.error().message(), HasSubstr(c.says));
    EXPECT_EQ((*vm)->state(), VmState::stopped);
    EXPECT_THAT(child_qemu_pids(), ::testing::IsEmpty());
  }
}

// A template whose RAM file does not fit: io naming the RAM file, nothing left on the small
// filesystem, the VM still paused, and a save elsewhere then works.
TEST_F(QemuTemplateTest, ADiskFullWhileWritingATemplateLeavesNothingAndTheVmPaused) {
  GuestConsole console;
  auto config = guest_config(assets_).nat_network().build();
  ASSERT_TRUE(config);
  auto vm = VirtualMachine::create(*config, file_backed(console));
  ASSERT_TRUE(vm) << vm.error().to_string();
  ASSERT_TRUE((*vm)->start().get());
  ASSERT_TRUE(console.wait_counter_above(1, kBoot));
  ASSERT_TRUE((*vm)->pause().get());

  const auto small = dir_.path() / "small";
  fs::create_directory(small);
  // Room for the device state (a few hundred KiB) but not for the guest's RAM.
  ASSERT_EQ(std::system(("mount -t tmpfs -o size=8m vmm-test " + small.string()).c_str()), 0)
      << "the test needs root to mount a tmpfs";
  struct statvfs empty {};
  ASSERT_EQ(::statvfs(small.c_str(), &empty), 0);
  auto full = (*vm)->save_template(small / "template").get();
  struct statvfs after {};
  ASSERT_EQ(::statvfs(small.c_str(), &after), 0);
  const auto left = listing(small);
  std::system(("umount " + small.string()).c_str());
  ASSERT_FALSE(full) << "8 MiB cannot hold the guest's RAM";
  EXPECT_EQ(full.error().code(), Errc::io) << full.error().to_string();
  EXPECT_THAT(full.error().message(), HasSubstr("memory.ram"));
  EXPECT_THAT(full.error().message(), HasSubstr("No space left on device"));
  EXPECT_THAT(left, ::testing::IsEmpty());
  EXPECT_EQ(after.f_bfree, empty.f_bfree) << "the failed save still holds space";
  EXPECT_EQ((*vm)->state(), VmState::paused);

  auto saved = (*vm)->save_template(dir_.path() / "template").get();
  ASSERT_TRUE(saved) << saved.error().to_string();
  ASSERT_TRUE((*vm)->stop().get());
}

TEST_F(QemuTemplateTest, TemplatesNeedFileBackedMemoryAndRefuseWritableDisks) {
  GuestConsole console;
  auto config = guest_config(assets_).nat_network().build();
  ASSERT_TRUE(config);
  auto vm = VirtualMachine::create(*config, guest_create_options(console));
  ASSERT_TRUE(vm) << vm.error().to_string();
  ASSERT_TRUE((*vm)->start().get());
  ASSERT_TRUE((*vm)->pause().get());
  auto refused = (*vm)->save_template(dir_.path() / "t").get();
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message(), HasSubstr("file_backed_memory"));
  EXPECT_EQ((*vm)->state(), VmState::paused);
  EXPECT_FALSE(fs::exists(dir_.path() / "t"));
  ASSERT_TRUE((*vm)->stop().get());
}

}  // namespace
}  // namespace vmm::testing
