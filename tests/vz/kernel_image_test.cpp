// The arm64 uncompressed-Image check, alone and as part of make_checked_plan().
#include <gtest/gtest.h>

#include "test_support.hpp"
#include "vz/kernel_image.hpp"
#include "vz/plan.hpp"

namespace vmm::vz {
namespace {

using test::mac;
using test::Scratch;

void expect_invalid(const Result<void>& result, const std::string& word) {
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), Errc::invalid_config);
  EXPECT_NE(result.error().message().find(word), std::string::npos) << result.error().message();
}

TEST(VzKernelImage, UncompressedImageIsAccepted) {
  Scratch scratch;
  EXPECT_TRUE(check_arm64_kernel_image(scratch.kernel()));
}

TEST(VzKernelImage, GzipKernelIsRejectedAsCompressed) {
  Scratch scratch;
  std::string gzip(64, '\0');
  gzip[0] = '\x1f';
  gzip[1] = '\x8b';
  expect_invalid(check_arm64_kernel_image(scratch.file("vmlinuz", gzip)), "gzip");
}

TEST(VzKernelImage, OtherContentIsRejectedNamingTheMagic) {
  Scratch scratch;
  expect_invalid(check_arm64_kernel_image(scratch.file("bzImage", std::string(512, 'M'))),
                 "ARMd");
  expect_invalid(check_arm64_kernel_image(scratch.file("short", "ARMd")), "ARMd");
}

TEST(VzKernelImage, MissingKernelIsNotFound) {
  auto result = check_arm64_kernel_image("/nonexistent/Image");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), Errc::not_found);
}

TEST(VzKernelImage, CheckedPlanRejectsACompressedKernelOnArm64Only) {
  Scratch scratch;
  auto builder = VmConfig::builder();
  builder.linux_boot(scratch.file("vmlinuz", std::string(64, '\x1f')));
  const auto config = test::built(builder);
  auto on_arm64 = make_checked_plan(config, mac(14), PlanOptions{});
  ASSERT_FALSE(on_arm64);
  EXPECT_EQ(on_arm64.error().code(), Errc::invalid_config);
  EXPECT_NE(on_arm64.error().message().find("vmlinuz"), std::string::npos);
  // An Intel Mac boots a bzImage: no check there.
  EXPECT_TRUE(make_checked_plan(config, mac(14, 0, HostArch::x86_64), PlanOptions{}));
  EXPECT_TRUE(make_checked_plan(test::built(scratch.linux_builder()), mac(14), PlanOptions{}));
}

}  // namespace
}  // namespace vmm::vz
