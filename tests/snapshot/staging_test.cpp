// The staging directory as an object (removed unless committed) and where a save's bundle
// commit runs: off the engine's thread and off the callback thread, with destruction waiting.
#include <gtest/gtest.h>

#include <gmock/gmock.h>

#include <atomic>
#include <fstream>
#include <future>
#include <thread>

#include "runtime/file_digest.hpp"
#include "snapshot/bundle.hpp"
#include "snapshot/manifest.hpp"
#include "snapshot/staging.hpp"
#include "support/fake_vm.hpp"

namespace vmm::testing {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class Staging : public ::testing::Test {
 protected:
  SnapshotManifest manifest() const {
    return SnapshotManifest{.backend = "qemu",
                            .config = base_config(dir_),
                            .state_file = "state.fake",
                            .created_at = detail::utc_timestamp_now(),
                            .library_version = "test",
                            .serial_port = std::nullopt,
                            .digests = {}};
  }
  static void write_state(const fs::path& staging) {
    std::ofstream(staging / "state.fake") << "machine state";
  }

  TempDir dir_;
  fs::path bundle_ = dir_.path() / "snap";
};

TEST_F(Staging, IsASiblingOfTheBundleAndGoesWithTheObject) {
  fs::path path;
  {
    auto staging = detail::StagingDirectory::create(bundle_);
    ASSERT_TRUE(staging) << staging.error().message();
    path = staging->path();
    EXPECT_EQ(path.parent_path(), dir_.path());
    EXPECT_THAT(path.filename().string(), HasSubstr("snap.tmp-"));
    EXPECT_TRUE(fs::is_directory(path));
    write_state(path);
  }
  EXPECT_FALSE(fs::exists(path));
}

TEST_F(Staging, AMovedFromObjectOwnsNothing) {
  auto staging = detail::StagingDirectory::create(bundle_);
  ASSERT_TRUE(staging);
  const fs::path path = staging->path();
  std::optional<detail::StagingDirectory> moved(std::move(*staging));
  staging = Unexpected(Error(Errc::io, "gone"));  // destroys the moved-from object
  EXPECT_TRUE(fs::is_directory(path));
  moved.reset();
  EXPECT_FALSE(fs::exists(path));
}

TEST_F(Staging, CommitMakesItTheBundleWithTheStateDigest) {
  auto staging = detail::StagingDirectory::create(bundle_);
  ASSERT_TRUE(staging);
  const fs::path path = staging->path();
  write_state(path);
  const auto expected = detail::digest_file(path / "state.fake");
  ASSERT_TRUE(expected);
  ASSERT_TRUE(staging->commit(manifest(), std::nullopt));
  EXPECT_FALSE(fs::exists(path));
  auto read = read_snapshot_manifest(bundle_);
  ASSERT_TRUE(read) << read.error().message();
  EXPECT_EQ(read->digests.at("state.fake"), *expected);
  staging = Unexpected(Error(Errc::io, "gone"));  // a committed object removes nothing
  EXPECT_TRUE(fs::exists(bundle_ / "state.fake"));
}

TEST_F(Staging, CommitRecordsTheDigestTheEngineComputed) {
  auto staging = detail::StagingDirectory::create(bundle_);
  ASSERT_TRUE(staging);
  write_state(staging->path());
  const std::string given = "xxh3-128:00112233445566778899aabbccddeeff";
  ASSERT_TRUE(staging->commit(manifest(), given));
  auto read = read_snapshot_manifest(bundle_);
  ASSERT_TRUE(read) << read.error().message();
  EXPECT_EQ(read->digests.at("state.fake"), given);
}

TEST_F(Staging, AFailedCommitRemovesItAndNamesTheMissingStateFile) {
  auto staging = detail::StagingDirectory::create(bundle_);
  ASSERT_TRUE(staging);
  const fs::path path = staging->path();
  auto committed = staging->commit(manifest(), std::nullopt);  // no state file written
  ASSERT_FALSE(committed);
  EXPECT_THAT(committed.error().message(), HasSubstr("save: "));
  EXPECT_THAT(committed.error().message(), HasSubstr("state.fake"));
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(bundle_));
}

// ---- where the commit runs -----------------------------------------------------------------------

class CommitThread : public ::testing::Test {
 protected:
  void SetUp() override { fake_.drive_to(VmState::paused); }
  void TearDown() override { release(); }
  // The next commit blocks (where it would write the manifest) until release().
  void block_next_commit() {
    detail::on_next_commit_for_testing([this] {
      commit_thread_ = std::this_thread::get_id();
      entered_.set_value();
      released_.wait();
    });
  }
  void release() {
    if (!released_set_.exchange(true)) release_.set_value();
  }

  TempDir dir_;
  fs::path bundle_ = dir_.path() / "snap";
  FakeVm fake_{base_config(dir_)};
  Completions done_;
  std::thread::id commit_thread_;
  std::promise<void> entered_;
  std::promise<void> release_;
  std::shared_future<void> released_ = release_.get_future().share();
  std::atomic<bool> released_set_{false};
};

TEST_F(CommitThread, RunsOffTheEngineThreadAndTheCallbackThread) {
  block_next_commit();
  auto entered = entered_.get_future();
  fake_.vm->save(bundle_, done_.callback());
  ASSERT_EQ(entered.wait_for(kTimeout), std::future_status::ready);
  // The engine's thread is free while the bundle is being committed.
  EXPECT_TRUE(fake_.control->drain());
  EXPECT_EQ(fake_.vm->state(), VmState::saving);
  EXPECT_EQ(done_.count(), 0u);
  release();
  ASSERT_TRUE(done_.wait_for(1));
  ASSERT_TRUE(done_.result(0)) << done_.result(0).error().message();
  EXPECT_NE(commit_thread_, done_.thread(0)) << "the commit ran on the callback thread";
  EXPECT_EQ(fake_.vm->state(), VmState::paused);
  EXPECT_TRUE(fs::exists(bundle_ / "manifest.json"));
}

TEST_F(CommitThread, EngineEventsLeaveACommittingSaveAloneAndItsResultStands) {
  block_next_commit();
  auto entered = entered_.get_future();
  fake_.vm->save(bundle_, done_.callback());
  ASSERT_EQ(entered.wait_for(kTimeout), std::future_status::ready);
  ASSERT_TRUE(fake_.control->emit_guest_stopped());
  ASSERT_TRUE(fake_.log.wait_for(VmState::stopped));
  EXPECT_EQ(done_.count(), 0u) << "the commit owns the operation";
  release();
  ASSERT_TRUE(done_.wait_for(1));
  EXPECT_TRUE(done_.result(0)) << "the bundle was written";
  EXPECT_EQ(fake_.vm->state(), VmState::stopped) << "the event's state stands";
  EXPECT_TRUE(fs::exists(bundle_ / "manifest.json"));
}

TEST_F(CommitThread, DestructionWaitsForTheCommitAndReportsItsOutcome) {
  block_next_commit();
  auto entered = entered_.get_future();
  fake_.vm->save(bundle_, done_.callback());
  ASSERT_EQ(entered.wait_for(kTimeout), std::future_status::ready);
  fake_.subscription.reset();
  auto destroyed = std::async(std::launch::async, [this] { fake_.vm.reset(); });
  EXPECT_EQ(destroyed.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout)
      << "destruction did not wait for the commit";
  release();
  ASSERT_EQ(destroyed.wait_for(kTimeout), std::future_status::ready);
  ASSERT_TRUE(done_.wait_for(1));
  EXPECT_TRUE(done_.result(0)) << done_.result(0).error().message();
  EXPECT_TRUE(fs::exists(bundle_ / "manifest.json"));
}

}  // namespace
}  // namespace vmm::testing
