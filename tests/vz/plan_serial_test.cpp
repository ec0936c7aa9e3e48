// make_plan(): the serial port, with and without a console-line callback.
#include <gtest/gtest.h>

#include "test_support.hpp"
#include "vz/plan.hpp"

namespace vmm::vz {
namespace {

using test::mac;
using test::Scratch;

SerialPlan serial_of(const VmConfig& config, bool console_lines) {
  auto plan = make_plan(config, mac(14), PlanOptions{{}, console_lines, {}});
  EXPECT_TRUE(plan.has_value());
  return plan ? plan->serial : SerialPlan{};
}

TEST(VzPlanSerial, FileWithAppendIsAFileAttachment) {
  Scratch scratch;
  const auto config = test::built(
      scratch.linux_builder().serial(SerialToFile{scratch.dir() / "console.log", false}));
  const auto serial = serial_of(config, false);
  const auto& file = std::get<SerialFilePlan>(serial);
  EXPECT_EQ(file.path, scratch.dir() / "console.log");
  EXPECT_FALSE(file.append);
}

TEST(VzPlanSerial, FdIsAFileHandleAttachment) {
  Scratch scratch;
  const auto config = test::built(scratch.linux_builder().serial(SerialToFd{1}));
  EXPECT_EQ(std::get<SerialFdPlan>(serial_of(config, false)).fd, 1);
}

TEST(VzPlanSerial, ConsoleLinesAddASerialPortWhenThereIsNone) {
  Scratch scratch;
  const auto serial = serial_of(test::built(scratch.linux_builder()), true);
  const auto& pipe = std::get<SerialPipePlan>(serial);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(pipe.tee));
}

TEST(VzPlanSerial, ConsoleLinesTeeToTheConfigsFile) {
  Scratch scratch;
  const auto config = test::built(
      scratch.linux_builder().serial(SerialToFile{scratch.dir() / "console.log", true}));
  const auto serial = serial_of(config, true);
  const auto& pipe = std::get<SerialPipePlan>(serial);
  const auto& tee = std::get<SerialFilePlan>(pipe.tee);
  EXPECT_EQ(tee.path, scratch.dir() / "console.log");
  EXPECT_TRUE(tee.append);
}

TEST(VzPlanSerial, ConsoleLinesTeeToTheConfigsFd) {
  Scratch scratch;
  const auto config = test::built(scratch.linux_builder().serial(SerialToFd{2}));
  const auto serial = serial_of(config, true);
  const auto& pipe = std::get<SerialPipePlan>(serial);
  EXPECT_EQ(std::get<SerialFdPlan>(pipe.tee).fd, 2);
}

// The machine's serial port, which snapshots record: on_console_line adds one by itself.
TEST(VzPlanSerial, HasSerialPortCountsTheConsoleLinePort) {
  Scratch scratch;
  const auto bare = test::built(scratch.linux_builder());
  auto plain = make_plan(bare, mac(14), PlanOptions{{}, false, {}});
  auto lines = make_plan(bare, mac(14), PlanOptions{{}, true, {}});
  ASSERT_TRUE(plain && lines);
  EXPECT_FALSE(has_serial_port(*plain));
  EXPECT_TRUE(has_serial_port(*lines));
  const auto logged = test::built(scratch.linux_builder().serial(SerialToFd{1}));
  auto with_serial = make_plan(logged, mac(14), PlanOptions{{}, false, {}});
  ASSERT_TRUE(with_serial);
  EXPECT_TRUE(has_serial_port(*with_serial));
}

}  // namespace
}  // namespace vmm::vz
