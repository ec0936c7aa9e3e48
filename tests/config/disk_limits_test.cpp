// Disk rate limits in a config: QEMU's throttle rules as build() applies them
// (src/config/disk_limits.cpp), each error naming the limit, and the JSON round trip.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <fstream>
#include <string>

#include "config/test_support.hpp"
#include "vmm/config.hpp"

namespace {

using namespace vmm;
using testing::HasSubstr;
using testing::Not;
using vmm_test::IsInvalid;
using vmm_test::TempDir;

class DiskLimitsConfigTest : public ::testing::Test {
 protected:
  Result<VmConfig> with(DiskLimits limits) {
    DiskImage disk;
    disk.path = disk_;
    disk.limits = limits;
    return VmConfig::builder().linux_boot(kernel_).disk(disk).build();
  }
  std::filesystem::path file(const char* name) {
    const auto path = dir_.path() / name;
    std::ofstream(path) << "data";
    return path;
  }
  TempDir dir_;
  std::filesystem::path kernel_ = file("vmlinuz");
  std::filesystem::path disk_ = file("disk.img");
};

TEST_F(DiskLimitsConfigTest, ZeroMeansNoLimitAndEveryLimitAloneBuilds) {
  auto none = with(DiskLimits{});
  ASSERT_TRUE(none) << none.error().to_string();
  EXPECT_FALSE(none->disks()[0].limits.any());
  DiskLimits limits;
  limits.read_bytes = {1, 1, 1};
  limits.write_bytes = {RateLimit::max_value, 0, 1};
  limits.read_iops = {10, 20, 5};
  limits.write_iops.per_second = 1;
  EXPECT_TRUE(with(limits));
  DiskLimits totals;
  totals.total_bytes = {1 << 20, 1 << 22, 4};
  totals.total_iops.per_second = 100;
  EXPECT_TRUE(with(totals));
}

TEST_F(DiskLimitsConfigTest, ATotalIsRefusedNextToAReadOrWriteLimitOfTheSameKind) {
  DiskLimits bytes;
  bytes.total_bytes.per_second = 1000;
  bytes.write_bytes.per_second = 500;
  EXPECT_TRUE(IsInvalid(with(bytes), "disks[0].limits.total_bytes", "write_bytes"));
  DiskLimits iops;
  iops.read_iops.per_second = 5;
  iops.total_iops.per_second = 10;
  EXPECT_TRUE(IsInvalid(with(iops), "disks[0].limits.total_iops", "read_iops"));
  // Different kinds mix freely.
  DiskLimits mixed;
  mixed.total_bytes.per_second = 1000;
  mixed.read_iops.per_second = 5;
  EXPECT_TRUE(with(mixed));
}

TEST_F(DiskLimitsConfigTest, ABurstNeedsARateAndIsNotBelowIt) {
  DiskLimits below;
  below.write_bytes = {1000, 999, 1};
  EXPECT_TRUE(IsInvalid(with(below), "disks[0].limits.write_bytes.burst", "999"));
  DiskLimits equal;
  equal.write_bytes = {1000, 1000, 1};
  EXPECT_TRUE(with(equal));
  DiskLimits without_rate;
  without_rate.read_iops.burst = 50;
  EXPECT_TRUE(IsInvalid(with(without_rate), "disks[0].limits.read_iops.burst", "50"));
}

TEST_F(DiskLimitsConfigTest, BurstSecondsAreAtLeastOneAndOnlyWithABurst) {
  DiskLimits zero;
  zero.total_iops = {10, 20, 0};
  EXPECT_TRUE(IsInvalid(with(zero), "disks[0].limits.total_iops.burst_seconds", "0"));
  DiskLimits no_burst;
  no_burst.total_iops = {10, 0, 7};
  EXPECT_TRUE(IsInvalid(with(no_burst), "disks[0].limits.total_iops.burst_seconds", "7"));
}

TEST_F(DiskLimitsConfigTest, ValuesAboveQemusCeilingAreRefused) {
  DiskLimits rate;
  rate.read_bytes.per_second = RateLimit::max_value + 1;
  EXPECT_TRUE(IsInvalid(with(rate), "disks[0].limits.read_bytes.per_second", "1000000000000001"));
  DiskLimits burst;
  burst.read_bytes = {1, RateLimit::max_value + 1, 1};
  EXPECT_TRUE(IsInvalid(with(burst), "disks[0].limits.read_bytes.burst", "1000000000000001"));
  DiskLimits long_burst;
  long_burst.read_bytes = {1, RateLimit::max_value / 2, 3};
  EXPECT_TRUE(IsInvalid(with(long_burst), "disks[0].limits.read_bytes.burst_seconds", "3"));
}

TEST_F(DiskLimitsConfigTest, JsonRoundTripWritesOnlyTheLimitsSet) {
  DiskLimits limits;
  limits.write_bytes = {1 << 20, 1 << 22, 3};
  limits.read_iops.per_second = 100;
  auto config = with(limits);
  ASSERT_TRUE(config) << config.error().to_string();
  const auto text = config->to_json();
  EXPECT_THAT(text, HasSubstr("\"write_bytes\""));
  EXPECT_THAT(text, HasSubstr("\"burst_seconds\": 3"));
  EXPECT_THAT(text, Not(HasSubstr("total_bytes")));
  auto back = VmConfig::from_json(text);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(back->disks()[0].limits, limits);
  EXPECT_EQ(back->to_json(), text);

  auto plain = with(DiskLimits{});
  ASSERT_TRUE(plain);
  EXPECT_THAT(plain->to_json(), Not(HasSubstr("limits")));
}

TEST_F(DiskLimitsConfigTest, JsonErrorsNameTheLimit) {
  auto document = [&](const std::string& limits) {
    return fmt::format(
        R"({{"schema_version": 1, "boot": {{"type": "linux", "kernel": "{}"}},
            "disks": [{{"path": "{}", "limits": {}}}]}})",
        kernel_.string(), disk_.string(), limits);
  };
  auto unknown = VmConfig::from_json(document(R"({"write_byte": {"per_second": 1}})"));
  ASSERT_FALSE(unknown);
  EXPECT_THAT(unknown.error().message(), HasSubstr("$.disks[0].limits"));
  EXPECT_THAT(unknown.error().message(), HasSubstr("write_byte"));
  auto negative = VmConfig::from_json(document(R"({"write_bytes": {"per_second": -1}})"));
  ASSERT_FALSE(negative);
  EXPECT_THAT(negative.error().message(), HasSubstr("$.disks[0].limits.write_bytes.per_second"));
  auto mixed = VmConfig::from_json(
      document(R"({"write_bytes": {"per_second": 1}, "total_bytes": {"per_second": 2}})"));
  ASSERT_FALSE(mixed);
  EXPECT_THAT(mixed.error().message(), HasSubstr("$.disks[0].limits.total_bytes"));
  auto read = VmConfig::from_json(document(R"({"write_bytes": {"per_second": 1048576}})"));
  ASSERT_TRUE(read) << read.error().to_string();
  EXPECT_EQ(read->disks()[0].limits.write_bytes.per_second, 1048576u);
}

}  // namespace
