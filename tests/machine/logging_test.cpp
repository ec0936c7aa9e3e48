// Transitions are logged at debug level through vmm::logger(), never printed on their own.
#include <gtest/gtest.h>

#include <gmock/gmock.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

#include "support/fake_vm.hpp"
#include "vmm/logging.hpp"

namespace vmm::testing {
namespace {

using ::testing::HasSubstr;

TEST(LifecycleLogging, TransitionsGoToTheConfiguredLoggerAtDebugLevel) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto logger = std::make_shared<spdlog::logger>("test", sink);
  logger->set_level(spdlog::level::debug);
  logger->set_pattern("%l %v");
  set_logger(logger);
  {
    TempDir dir;
    FakeVm fake(base_config(dir));
    ASSERT_TRUE(await(fake.vm->start()));
    (void)await(fake.vm->resume());  // refused: logged too
  }
  set_logger(nullptr);
  const auto text = out.str();
  EXPECT_THAT(text, HasSubstr("debug vmm: state stopped -> starting"));
  EXPECT_THAT(text, HasSubstr("debug vmm: state starting -> running"));
  EXPECT_THAT(text, HasSubstr("debug vmm: resume: not allowed while the VM is running"));
}

TEST(LifecycleLogging, NothingReachesStdoutOrStderrByDefault) {
  set_logger(nullptr);
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  {
    TempDir dir;
    FakeVm fake(base_config(dir));
    ASSERT_TRUE(await(fake.vm->start()));
    ASSERT_TRUE(await(fake.vm->pause()));
    ASSERT_TRUE(await(fake.vm->save(dir.path() / "bundle")));
    (void)await(fake.vm->start());
  }
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), "");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

}  // namespace
}  // namespace vmm::testing
