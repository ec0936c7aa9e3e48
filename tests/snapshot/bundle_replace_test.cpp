// Moving a finished bundle into place, by the atomic swap and by the two-rename fallback.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "support/fake_vm.hpp"
#include "snapshot/bundle.hpp"

namespace vmm::testing {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class BundleReplace : public ::testing::TestWithParam<detail::ReplaceMode> {
 protected:
  TempDir dir_;
  fs::path bundle_ = dir_.path() / "snap";
  fs::path staging_ = dir_.path() / "snap.tmp-test";

  void SetUp() override {
    dir_.file("snap/manifest.json", "old manifest");
    dir_.file("snap/only-in-old", "old");
    dir_.file("snap.tmp-test/manifest.json", "new manifest");
  }
};

TEST_P(BundleReplace, NewBundleReplacesTheOldOneWithNothingLeftOver) {
  ASSERT_TRUE(detail::move_into_place(staging_, bundle_, GetParam()));
  EXPECT_EQ(read(bundle_ / "manifest.json"), "new manifest");
  EXPECT_FALSE(fs::exists(bundle_ / "only-in-old"));
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir_.path()))
    names.push_back(entry.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{"snap"});
}

TEST_P(BundleReplace, FirstBundleIsARename) {
  fs::remove_all(bundle_);
  ASSERT_TRUE(detail::move_into_place(staging_, bundle_, GetParam()));
  EXPECT_EQ(read(bundle_ / "manifest.json"), "new manifest");
  EXPECT_FALSE(fs::exists(staging_));
}

TEST_P(BundleReplace, MissingStagingFailsAndKeepsTheOldBundle) {
  fs::remove_all(staging_);
  auto moved = detail::move_into_place(staging_, bundle_, GetParam());
  ASSERT_FALSE(moved);
  EXPECT_EQ(moved.error().code(), Errc::io);
  EXPECT_EQ(read(bundle_ / "manifest.json"), "old manifest");
  EXPECT_EQ(read(bundle_ / "only-in-old"), "old");
}

INSTANTIATE_TEST_SUITE_P(Modes, BundleReplace,
                         ::testing::Values(detail::ReplaceMode::exchange,
                                           detail::ReplaceMode::two_renames),
                         [](const ::testing::TestParamInfo<detail::ReplaceMode>& param_info) {
                           return param_info.param == detail::ReplaceMode::exchange ? "Exchange"
                                                                              : "TwoRenames";
                         });

}  // namespace
}  // namespace vmm::testing
