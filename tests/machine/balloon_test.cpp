// VirtualMachine's memory balloon controls over the fake engine: what the core refuses (no
// balloon, wrong state, targets against the rules of memory_target.hpp) and what it passes on.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "machine/memory_target.hpp"
#include "machine/virtual_machine_impl.hpp"
#include "support/fake_vm.hpp"

namespace vmm::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

VmConfig balloon_config(const TempDir& dir) {
  auto config = base_builder(dir).memory(Size::mib(512)).balloon().build();
  EXPECT_TRUE(config) << config.error().to_string();
  return *config;
}

TEST(MemoryTarget, RulesNameTheValueAndTheLimit) {
  const auto configured = Size::mib(512);
  EXPECT_TRUE(detail::check_memory_target(configured, configured, true));
  EXPECT_TRUE(detail::check_memory_target(configured, VirtualMachine::min_memory_target, true));
  auto above = detail::check_memory_target(configured, Size::mib(513), false);
  ASSERT_FALSE(above);
  EXPECT_EQ(above.error().code(), Errc::invalid_config);
  EXPECT_EQ(above.error().message(),
            "set_memory_target: 513MiB is above the configured memory of 512MiB");
  auto below = detail::check_memory_target(configured, Size::mib(127), false);
  ASSERT_FALSE(below);
  EXPECT_EQ(below.error().message(), "set_memory_target: 127MiB is below the floor of 128MiB");
  const auto odd = Size::bytes(Size::mib(200).as_bytes() + 4096);
  EXPECT_TRUE(detail::check_memory_target(configured, odd, false));
  auto unaligned = detail::check_memory_target(configured, odd, true);
  ASSERT_FALSE(unaligned);
  EXPECT_THAT(unaligned.error().message(), HasSubstr("not a whole number of MiB"));
}

TEST(Balloon, TargetPassesToTheEngineAndIsReported) {
  TempDir dir;
  FakeVm fake(balloon_config(dir));
  fake.drive_to(VmState::running);
  ASSERT_TRUE(await(fake.vm->set_memory_target(Size::mib(256))));
  EXPECT_THAT(fake.control->calls(),
              Contains("set_memory_target:" + std::to_string(Size::mib(256).as_bytes())));
  auto info = await(fake.vm->memory_balloon());
  ASSERT_TRUE(info) << info.error().to_string();
  EXPECT_EQ(info->target, Size::mib(256));
}

TEST(Balloon, RefusedWithoutABalloonOrWhenStoppedOrAgainstTheRules) {
  TempDir dir;
  {
    FakeVm fake(base_config(dir));
    fake.drive_to(VmState::running);
    auto none = await(fake.vm->set_memory_target(Size::mib(256)));
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code(), Errc::invalid_config);
    EXPECT_THAT(none.error().message(), HasSubstr("no memory balloon"));
    EXPECT_EQ(await(fake.vm->memory_balloon()).error().code(), Errc::invalid_config);
  }
  FakeVm fake(balloon_config(dir));
  EXPECT_EQ(await(fake.vm->set_memory_target(Size::mib(256))).error().code(),
            Errc::invalid_state);
  EXPECT_EQ(await(fake.vm->memory_balloon()).error().code(), Errc::invalid_state);
  fake.drive_to(VmState::running);
  auto above = await(fake.vm->set_memory_target(Size::gib(1)));
  ASSERT_FALSE(above);
  EXPECT_THAT(above.error().message(), HasSubstr("above the configured memory"));
  // The fake answers like QEMU: byte granularity is fine.
  EXPECT_TRUE(await(fake.vm->set_memory_target(Size::bytes(Size::mib(200).as_bytes() + 4096))));
  EXPECT_EQ(fake.control->count("set_memory_target:" + std::to_string(Size::gib(1).as_bytes())),
            0u);
}

TEST(Balloon, WholeMibOnlyWhereTheEngineSaysSo) {
  TempDir dir;
  auto control = std::make_shared<FakeEngineControl>();
  control->set_backend_name("virtualization_framework");  // the fake then wants whole MiB
  auto vm = detail::make_virtual_machine(FakeEngine::make(balloon_config(dir), control),
                                         Backend::virtualization_framework);
  ASSERT_TRUE(await(vm->start()));
  auto odd = await(vm->set_memory_target(Size::bytes(Size::mib(200).as_bytes() + 4096)));
  ASSERT_FALSE(odd);
  EXPECT_EQ(odd.error().code(), Errc::invalid_config);
  EXPECT_THAT(odd.error().message(), HasSubstr("not a whole number of MiB"));
  EXPECT_TRUE(await(vm->set_memory_target(Size::mib(200))));
}

}  // namespace
}  // namespace vmm::testing
