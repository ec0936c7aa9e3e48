// save() and restore() through the VM: atomic bundles, refusals before any state change.
#include <gtest/gtest.h>

#include <gmock/gmock.h>

#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>

#include "support/fake_vm.hpp"
#include "machine/virtual_machine_impl.hpp"
#include "vmm/mac_address.hpp"
#include "vmm/snapshot.hpp"
#include "vmm/version.hpp"

namespace vmm::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

// Every regular file under `root`, relative path -> content.
std::map<std::string, std::string> snapshot_tree(const fs::path& root) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    files[fs::relative(entry.path(), root).string()] =
        std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return files;
}

// Names in `dir` other than the ones given: staging or aside directories left behind.
std::vector<std::string> leftovers(const fs::path& dir, std::vector<std::string> expected) {
  std::vector<std::string> extra;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const auto name = entry.path().filename().string();
    if (std::find(expected.begin(), expected.end(), name) == expected.end()) extra.push_back(name);
  }
  return extra;
}

class Bundle : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(snapshots_);
    fake_.drive_to(VmState::paused);
  }
  VirtualMachine& vm() { return *fake_.vm; }

  TempDir dir_;
  fs::path snapshots_ = dir_.path() / "snapshots";
  fs::path bundle_ = snapshots_ / "snap";
  Completions done_;
  FakeVm fake_{base_config(dir_)};
};

TEST_F(Bundle, SaveWritesManifestAndStateAndStaysPaused) {
  ASSERT_TRUE(await(vm().save(bundle_)));
  EXPECT_EQ(vm().state(), VmState::paused);
  ASSERT_TRUE(fake_.log.wait_for_count(6));
  const auto changes = fake_.log.changes();
  EXPECT_EQ(changes[4].to, VmState::saving);
  EXPECT_EQ(changes[5].to, VmState::paused);

  auto manifest = read_snapshot_manifest(bundle_);
  ASSERT_TRUE(manifest) << manifest.error().to_string();
  EXPECT_EQ(manifest->backend, "qemu");
  EXPECT_EQ(manifest->config, vm().config());
  EXPECT_EQ(manifest->state_file, "state.fake");
  EXPECT_EQ(manifest->library_version, version_string);
  EXPECT_EQ(manifest->created_at.size(), 20u);
  EXPECT_EQ(snapshot_tree(bundle_).at("state.fake"), FakeEngine::state_content);
  EXPECT_THAT(leftovers(snapshots_, {"snap"}), ElementsAre());
}

TEST_F(Bundle, TheEngineWritesIntoAStagingSiblingWhileSaving) {
  fake_.control->hold_operations(true);
  vm().save(bundle_, done_.callback());
  ASSERT_TRUE(fake_.control->wait_for_call("save"));
  EXPECT_EQ(vm().state(), VmState::saving);
  const auto state_file = fake_.control->last_path("save");
  ASSERT_TRUE(state_file.has_value());
  EXPECT_EQ(state_file->filename(), "state.fake");
  EXPECT_EQ(state_file->parent_path().parent_path(), snapshots_) << "same filesystem as the target";
  EXPECT_THAT(state_file->parent_path().filename().string(), HasSubstr("snap.tmp-"));
  EXPECT_FALSE(fs::exists(bundle_)) << "nothing at the target before the commit";
  ASSERT_TRUE(fake_.control->complete("save"));
  ASSERT_TRUE(done_.wait_for(1));
  EXPECT_TRUE(done_.result(0));
  EXPECT_FALSE(fs::exists(state_file->parent_path()));
  EXPECT_TRUE(fs::exists(bundle_ / "manifest.json"));
}

TEST_F(Bundle, FailedSaveLeavesTheOlderBundleByteIdentical) {
  ASSERT_TRUE(await(vm().save(bundle_)));
  const auto before = snapshot_tree(bundle_);
  fake_.control->fail_next("save", Error(Errc::backend, "migration failed"));
  const auto result = await(vm().save(bundle_));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message(), "migration failed");
  EXPECT_EQ(vm().state(), VmState::paused) << "a failed save leaves the VM paused";
  EXPECT_FALSE(vm().last_error().has_value());
  EXPECT_EQ(snapshot_tree(bundle_), before);
  EXPECT_THAT(leftovers(snapshots_, {"snap"}), ElementsAre());
}

TEST_F(Bundle, SuccessfulSaveReplacesTheOlderBundle) {
  ASSERT_TRUE(await(vm().save(bundle_)));
  std::ofstream(bundle_ / "from-the-old-bundle") << "old";
  ASSERT_TRUE(await(vm().save(bundle_)));
  const auto files = snapshot_tree(bundle_);
  EXPECT_EQ(files.count("from-the-old-bundle"), 0u);
  EXPECT_EQ(files.count("manifest.json"), 1u);
  EXPECT_EQ(files.count("state.fake"), 1u);
  EXPECT_THAT(leftovers(snapshots_, {"snap"}), ElementsAre());
}

TEST_F(Bundle, TrailingSeparatorNamesTheSameBundle) {
  ASSERT_TRUE(await(vm().save(bundle_.string() + "/")));
  EXPECT_TRUE(fs::exists(bundle_ / "manifest.json"));
  EXPECT_THAT(leftovers(snapshots_, {"snap"}), ElementsAre());
}

TEST_F(Bundle, SaveIsRefusedEarlyWhenTheBackendCannotSave) {
  fake_.control->set_save_support(
      make_error(Errc::unsupported, "a directory share makes this VM unsavable"));
  const auto result = await(vm().save(bundle_));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), Errc::unsupported);
  EXPECT_EQ(result.error().message(), "save: a directory share makes this VM unsavable");
  EXPECT_EQ(vm().state(), VmState::paused);
  EXPECT_EQ(fake_.control->count("save"), 0u);
  EXPECT_FALSE(fs::exists(bundle_));
  // No saving state for a refused save: a resume's callback completion comes after every
  // notification posted before it, so the log is complete when it has run.
  Completions resumed;
  vm().resume(resumed.callback());
  ASSERT_TRUE(resumed.wait_for(1));
  EXPECT_THAT(fake_.log.targets(),
              ElementsAre(VmState::starting, VmState::running, VmState::pausing, VmState::paused,
                          VmState::resuming, VmState::running));
}

TEST_F(Bundle, MissingParentIsAnIoErrorNamingThePath) {
  const auto result = await(vm().save(dir_.path() / "no-such-dir" / "snap"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), Errc::io);
  EXPECT_THAT(result.error().message(), HasSubstr("no-such-dir"));
  EXPECT_EQ(vm().state(), VmState::paused);
  EXPECT_EQ(fake_.control->count("save"), 0u);
}

TEST_F(Bundle, ParentThatIsAFileIsAnIoError) {
  // Root ignores permissions; a regular file in the path fails for everyone.
  const auto file = dir_.file("plain-file");
  const auto result = await(vm().save(file / "snap"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), Errc::io);
  EXPECT_THAT(result.error().message(), HasSubstr("plain-file"));
  EXPECT_EQ(vm().state(), VmState::paused);
}

TEST_F(Bundle, ADirectoryThatIsNotABundleIsNeverReplaced) {
  fs::create_directories(bundle_);
  std::ofstream(bundle_ / "precious.txt") << "keep me";
  const auto result = await(vm().save(bundle_));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), Errc::io);
  EXPECT_THAT(result.error().message(), HasSubstr("not a snapshot bundle"));
  EXPECT_EQ(snapshot_tree(bundle_).at("precious.txt"), "keep me");
}

TEST_F(Bundle, DestroyingTheVmMidSaveRemovesTheStagingDirectory) {
  fake_.control->hold_operations(true);
  auto future = vm().save(bundle_);
  ASSERT_TRUE(fake_.control->wait_for_call("save"));
  fake_.subscription.reset();
  fake_.vm.reset();
  const auto result = await(std::move(future));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), Errc::cancelled);
  EXPECT_THAT(leftovers(snapshots_, {}), ElementsAre());
}

TEST_F(Bundle, EngineFailureMidSaveEndsInErrorAndCleansUpWhenTheEngineAnswers) {
  fake_.control->hold_operations(true);
  vm().save(bundle_, done_.callback());
  ASSERT_TRUE(fake_.control->wait_for_call("save"));
  ASSERT_TRUE(fake_.control->emit_failure(Error(Errc::backend, "qemu died")));
  ASSERT_TRUE(done_.wait_for(1));
  EXPECT_FALSE(done_.result(0));
  EXPECT_EQ(vm().state(), VmState::error);
  // The engine answers its save late, with an error as engines do after failing.
  ASSERT_TRUE(fake_.control->complete("save", make_error(Errc::backend, "qemu died")));
  ASSERT_TRUE(fake_.control->drain());
  EXPECT_THAT(leftovers(snapshots_, {}), ElementsAre());
  EXPECT_EQ(vm().state(), VmState::error);
  fake_.subscription.reset();
  fake_.vm.reset();
  EXPECT_EQ(done_.count(), 1u);
}

TEST_F(Bundle, EngineFailureMidSaveThenDestructionBeforeTheEngineAnswersLeavesNoStaging) {
  fake_.control->hold_operations(true);
  vm().save(bundle_, done_.callback());
  ASSERT_TRUE(fake_.control->wait_for_call("save"));
  ASSERT_TRUE(fake_.control->emit_failure(Error(Errc::backend, "qemu died")));
  ASSERT_TRUE(done_.wait_for(1));
  EXPECT_THAT(leftovers(snapshots_, {}), ::testing::SizeIs(1)) << "the engine is still writing";
  fake_.subscription.reset();
  fake_.vm.reset();  // the engine never answers its save
  EXPECT_THAT(leftovers(snapshots_, {}), ElementsAre());
  EXPECT_EQ(done_.count(), 1u);
}

// ---- restore -------------------------------------------------------------------------------------

class Restore : public Bundle {
 protected:
  void SetUp() override {
    Bundle::SetUp();
    ASSERT_TRUE(await(vm().save(bundle_)));
  }
  // A second, stopped VM to restore into.
  std::unique_ptr<FakeVm> other(const VmConfig& config) {
    return std::make_unique<FakeVm>(config);
  }
};

TEST_F(Restore, RestoreEndsPausedAndResumeContinues) {
  auto target = other(base_config(dir_));
  ASSERT_TRUE(await(target->vm->restore(bundle_)));
  EXPECT_EQ(target->vm->state(), VmState::paused);
  EXPECT_EQ(target->control->last_path("restore"), bundle_ / "state.fake");
  ASSERT_TRUE(await(target->vm->resume()));
  EXPECT_EQ(target->vm->state(), VmState::running);
  ASSERT_TRUE(target->log.wait_for_count(4));
  EXPECT_THAT(target->log.targets(), ElementsAre(VmState::restoring, VmState::paused,
                                                 VmState::resuming, VmState::running));
}

TEST_F(Restore, MismatchIsRefusedBeforeTheEngineWithTheStateUnchanged) {
  auto config = base_builder(dir_).macs({*MacAddress::parse("52:54:00:aa:bb:cc")}).build();
  ASSERT_TRUE(config) << config.error().to_string();
  auto target = other(*config);
  const auto result = await(target->vm->restore(bundle_));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), Errc::invalid_config);
  EXPECT_THAT(result.error().message(), HasSubstr("networks[0].mac"));
  EXPECT_EQ(target->vm->state(), VmState::stopped);
  EXPECT_EQ(target->control->count("restore"), 0u);
  EXPECT_TRUE(target->log.changes().empty());
}

// The machine's serial port (on VZ also added by on_console_line) is recorded on save and must
// match on restore, as VZ's own device comparison requires.
TEST_F(Restore, SerialPortOfTheMachineIsRecordedAndMustMatch) {
  auto manifest = read_snapshot_manifest(bundle_);
  ASSERT_TRUE(manifest) << manifest.error().to_string();
  EXPECT_EQ(manifest->serial_port, std::optional<bool>(false));  // base config: no serial

  auto control = std::make_shared<FakeEngineControl>();
  control->set_serial_port(true);  // e.g. VZ with an on_console_line callback
  auto target = detail::make_virtual_machine(FakeEngine::make(base_config(dir_), control),
                                             Backend::qemu);
  const auto result = await(target->restore(bundle_));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), Errc::invalid_config);
  EXPECT_THAT(result.error().message(), HasSubstr("restore: serial: the snapshot has none"));
  EXPECT_EQ(control->count("restore"), 0u);
  EXPECT_EQ(target->state(), VmState::stopped);
}

TEST_F(Restore, SerialPortFromTheEngineIsWhatTheManifestRecords) {
  auto control = std::make_shared<FakeEngineControl>();
  control->set_serial_port(true);
  auto source = detail::make_virtual_machine(FakeEngine::make(base_config(dir_), control),
                                             Backend::qemu);
  ASSERT_TRUE(await(source->start()));
  ASSERT_TRUE(await(source->pause()));
  const auto with_port = snapshots_ / "with-port";
  ASSERT_TRUE(await(source->save(with_port)));
  auto manifest = read_snapshot_manifest(with_port);
  ASSERT_TRUE(manifest) << manifest.error().to_string();
  EXPECT_EQ(manifest->serial_port, std::optional<bool>(true));
}

TEST_F(Restore, SnapshotOfAnotherBackendIsRefused) {
  auto control = std::make_shared<FakeEngineControl>();
  control->set_backend_name("virtualization_framework");
  auto target = detail::make_virtual_machine(FakeEngine::make(base_config(dir_), control),
                                             Backend::virtualization_framework);
  const auto result = await(target->restore(bundle_));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message(),
            "restore: snapshot was made by qemu, this VM uses virtualization_framework");
  EXPECT_EQ(control->count("restore"), 0u);
}

TEST_F(Restore, MissingStateFileIsNotFound) {
  fs::remove(bundle_ / "state.fake");
  auto target = other(base_config(dir_));
  const auto result = await(target->vm->restore(bundle_));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), Errc::not_found);
  EXPECT_THAT(result.error().message(), HasSubstr("state.fake"));
  EXPECT_EQ(target->vm->state(), VmState::stopped);
}

TEST_F(Restore, MissingBundleIsNotFound) {
  auto target = other(base_config(dir_));
  const auto result = await(target->vm->restore(snapshots_ / "never-saved"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), Errc::not_found);
  EXPECT_THAT(result.error().message(), HasSubstr("never-saved"));
}

// The fake engine computes no digest: the core reads its state file back to hash it.
TEST_F(Restore, ADamagedStateFileIsRefusedBeforeTheEngineNamingIt) {
  auto manifest = read_snapshot_manifest(bundle_);
  ASSERT_TRUE(manifest) << manifest.error().to_string();
  EXPECT_EQ(manifest->format_version, 2);
  ASSERT_EQ(manifest->digests.size(), 1u);
  EXPECT_TRUE(manifest->digests.contains("state.fake"));
  std::string state;
  {
    std::ifstream in(bundle_ / "state.fake", std::ios::binary);
    state.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  ASSERT_FALSE(state.empty());
  state[state.size() * 3 / 4] = static_cast<char>(state[state.size() * 3 / 4] ^ 0x01);
  std::ofstream(bundle_ / "state.fake", std::ios::binary | std::ios::trunc) << state;
  auto target = other(base_config(dir_));
  const auto result = await(target->vm->restore(bundle_));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), Errc::io);
  EXPECT_THAT(result.error().message(), HasSubstr((bundle_ / "state.fake").string()));
  EXPECT_THAT(result.error().message(), HasSubstr("damaged"));
  EXPECT_EQ(target->control->count("restore"), 0u);
  EXPECT_EQ(target->vm->state(), VmState::stopped);
}

// A bundle from before digests (format 1) restores, unverified (a warning is logged), where
// the backend's devices did not change since (Virtualization.framework; format 1 QEMU bundles
// are refused: Compat.FormatOneQemuBundleIsRefusedSayingWhy).
TEST_F(Restore, AFormatOneBundleRestoresWithoutADigest) {
  std::string text;
  {
    std::ifstream in(bundle_ / "manifest.json");
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  auto document = nlohmann::json::parse(text);
  document["format_version"] = 1;
  document["backend"] = "virtualization_framework";
  document.erase("digests");
  std::ofstream(bundle_ / "manifest.json", std::ios::trunc) << document.dump(2);
  auto control = std::make_shared<FakeEngineControl>();
  control->set_backend_name("virtualization_framework");
  auto target = detail::make_virtual_machine(FakeEngine::make(base_config(dir_), control),
                                             Backend::virtualization_framework);
  const auto result = await(target->restore(bundle_));
  ASSERT_TRUE(result) << result.error().to_string();
  EXPECT_EQ(control->count("restore"), 1u);
}

TEST_F(Restore, MalformedManifestIsRefusedNamingTheJsonPath) {
  std::string text;
  {
    std::ifstream in(bundle_ / "manifest.json");
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  text.insert(text.find('{') + 1, "\"unexpected\": 1,");
  std::ofstream(bundle_ / "manifest.json", std::ios::trunc) << text;
  auto target = other(base_config(dir_));
  const auto result = await(target->vm->restore(bundle_));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), Errc::invalid_config);
  EXPECT_THAT(result.error().message(), HasSubstr("$.unexpected: unknown field"));
  EXPECT_EQ(target->control->count("restore"), 0u);
}

TEST_F(Restore, EngineFailureEndsStopped) {
  auto target = other(base_config(dir_));
  target->control->fail_next("restore", Error(Errc::backend, "state file rejected"));
  const auto result = await(target->vm->restore(bundle_));
  ASSERT_FALSE(result);
  EXPECT_EQ(target->vm->state(), VmState::stopped);
  ASSERT_TRUE(target->log.wait_for_count(2));
  EXPECT_THAT(target->log.targets(), ElementsAre(VmState::restoring, VmState::stopped));
}

TEST_F(Restore, AllowedFromError) {
  auto target = other(base_config(dir_));
  target->drive_to(VmState::error);
  ASSERT_TRUE(await(target->vm->restore(bundle_)));
  EXPECT_EQ(target->vm->state(), VmState::paused);
  EXPECT_FALSE(target->vm->last_error().has_value());
}

TEST_F(Restore, RefusedWhenTheBackendCannotRestore) {
  auto target = other(base_config(dir_));
  target->control->set_save_support(make_error(Errc::unsupported, "needs macOS 14 on arm64"));
  const auto result = await(target->vm->restore(bundle_));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), Errc::unsupported);
  EXPECT_EQ(target->vm->state(), VmState::stopped);
}

TEST_F(Restore, ManifestRebuildsAMatchingConfig) {
  auto manifest = read_snapshot_manifest(bundle_);
  ASSERT_TRUE(manifest);
  auto target = other(manifest->config);
  EXPECT_TRUE(await(target->vm->restore(bundle_)));
}

}  // namespace
}  // namespace vmm::testing
