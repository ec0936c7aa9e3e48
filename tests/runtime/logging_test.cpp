// The logging hook: set_logger / logger, the silent default, and a library that writes nothing
// to stdout or stderr on its own.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <memory>
#include <sstream>

#include "support/temp_dir.hpp"
#include "vmm/vmm.hpp"

namespace {

using vmm::support::TempDir;

class LoggingTest : public testing::Test {
 protected:
  void TearDown() override { vmm::set_logger(nullptr); }
};

TEST_F(LoggingTest, DefaultLoggerHasNoSinks) {
  vmm::set_logger(nullptr);
  const auto logger = vmm::logger();
  ASSERT_NE(logger, nullptr);
  EXPECT_TRUE(logger->sinks().empty());
}

TEST_F(LoggingTest, SetLoggerRoutesToTheGivenLogger) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto custom = std::make_shared<spdlog::logger>("test", sink);
  custom->set_pattern("%l %v");
  vmm::set_logger(custom);
  EXPECT_EQ(vmm::logger(), custom);
  vmm::logger()->warn("through the hook");
  vmm::logger()->flush();
  EXPECT_EQ(out.str(), "warning through the hook\n");
}

TEST_F(LoggingTest, NullptrRestoresTheSilentDefault) {
  const auto original = vmm::logger();
  auto custom = std::make_shared<spdlog::logger>(
      "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(std::cerr));
  vmm::set_logger(custom);
  ASSERT_EQ(vmm::logger(), custom);
  vmm::set_logger(nullptr);
  const auto restored = vmm::logger();
  ASSERT_NE(restored, nullptr);
  EXPECT_NE(restored, custom);
  EXPECT_TRUE(restored->sinks().empty());
  EXPECT_EQ(restored, original);
}

TEST_F(LoggingTest, BuildingAndReadingConfigsWritesNothing) {
  TempDir temp;
  const auto kernel = temp.file("vmlinuz");
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  {
    auto good = vmm::VmConfig::builder()
                    .linux_boot(kernel)
                    .nat_network()
                    .share("t", temp.path())
                    .disk(temp.file("disk.img"))
                    .entropy()
                    .balloon()
                    .build();
    const bool good_ok = good.has_value();
    const auto json = good_ok ? good->to_json() : std::string();
    const auto back = vmm::VmConfig::from_json(json);
    const auto bad_cpus = vmm::VmConfig::builder().linux_boot(kernel).cpus(0).build();
    const auto bad_kernel = vmm::VmConfig::builder().linux_boot(temp.path() / "missing").build();
    const auto bad_json = vmm::VmConfig::from_json("{\"colour\": 1}");
    const auto bad_size = vmm::Size::parse("12 parsecs");
    const auto bad_mac = vmm::MacAddress::parse("01:00:5e:00:00:01");
    const std::string out = testing::internal::GetCapturedStdout();
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_TRUE(good_ok);
    EXPECT_TRUE(back.has_value());
    EXPECT_FALSE(bad_cpus || bad_kernel || bad_json || bad_size || bad_mac);
    EXPECT_EQ(out, "");
    EXPECT_EQ(err, "");
  }
}

}  // namespace
