// Inputs found by fuzzing (tests/fuzz) that once escaped VmConfig::from_json as exceptions.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

}  // namespace
