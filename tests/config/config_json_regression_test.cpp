// Inputs found by fuzzing (tests/fuzz) that once escaped VmConfig::from_json as exceptions.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "snapshot/manifest.hpp"
#include "vmm/config.hpp"

namespace {

using ::testing::HasSubstr;

TEST(ConfigJsonRegression, NumberTooLargeForADoubleIsAnErrorNotAnException) {
  // nlohmann::json reports this as out_of_range (406), not parse_error.
  auto config = vmm::VmConfig::from_json(R"({"schema_version": 1, "cpus": 1e999})");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code(), vmm::Errc::invalid_config);
  EXPECT_THAT(config.error().message(), HasSubstr("malformed"));
}

TEST(ConfigJsonRegression, HugeIntegerIsReportedWithItsPath) {
  auto config = vmm::VmConfig::from_json(
      R"({"schema_version": 1, "cpus": 99999999999999999999, "boot": {"type": "efi", "variable_store": "/x"}})");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code(), vmm::Errc::invalid_config);
  EXPECT_THAT(config.error().message(), HasSubstr("$.cpus"));
}

TEST(ConfigJsonRegression, NulInAPathIsRefusedInsteadOfTruncated) {
  // "/boot/vmlinuz\0x" would reach open() and QEMU's argv as "/boot/vmlinuz".
  auto config = vmm::VmConfig::from_json(
      R"({"schema_version": 1, "boot": {"type": "linux", "kernel": "/etc/hostname\u0000x"}})");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code(), vmm::Errc::invalid_config);
  EXPECT_THAT(config.error().message(), HasSubstr("boot.kernel"));
  EXPECT_THAT(config.error().message(), HasSubstr("NUL"));
}

TEST(ConfigJsonRegression, NulInATagIsRefused) {
  auto config = vmm::VmConfig::builder()
                    .linux_boot("/etc/hostname")
                    .share(std::string("a\0b", 3), "/tmp")
                    .build();
  ASSERT_FALSE(config);
  EXPECT_THAT(config.error().message(), HasSubstr("shares[0].tag"));
}

TEST(ManifestJsonRegression, NumberTooLargeForADoubleIsAnErrorNotAnException) {
  auto manifest = vmm::detail::parse_snapshot_manifest(
      R"({"format_version": 1, "backend": "qemu", "config": {"schema_version": 1e400}})");
  ASSERT_FALSE(manifest);
  EXPECT_EQ(manifest.error().code(), vmm::Errc::invalid_config);
  EXPECT_THAT(manifest.error().message(), HasSubstr("malformed"));
}

}  // namespace
