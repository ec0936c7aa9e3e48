// VirtualMachine::console_port and guest_addresses over the fake engine: what the core refuses
// before asking the engine.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fake_vm.hpp"

namespace vmm::testing {
namespace {

using ::testing::HasSubstr;

TEST(ConsolePort, UnknownNameAndStoppedVmAreRefusedBeforeTheEngine) {
  TempDir dir;
  auto config = base_builder(dir).console_port("vmm.agent").build();
  ASSERT_TRUE(config) << config.error().to_string();
  FakeVm fake(*config);
  auto unknown = fake.vm->console_port("other");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), Errc::invalid_config);
  EXPECT_THAT(unknown.error().message(), HasSubstr("no console port named \"other\""));
  auto stopped = fake.vm->console_port("vmm.agent");
  ASSERT_FALSE(stopped);
  EXPECT_EQ(stopped.error().code(), Errc::invalid_state);
  EXPECT_EQ(stopped.error().message(), "console_port: not allowed while the VM is stopped");
  // Running: the engine answers (the fake has no channels: the seam's default).
  fake.drive_to(VmState::running);
  auto running = fake.vm->console_port("vmm.agent");
  ASSERT_FALSE(running);
  EXPECT_EQ(running.error().code(), Errc::unsupported);
}

TEST(GuestAddresses, TheEnginesAnswer) {
  TempDir dir;
  FakeVm fake(base_config(dir));
  auto addresses = fake.vm->guest_addresses();
  ASSERT_FALSE(addresses);
  EXPECT_EQ(addresses.error().code(), Errc::unsupported);
}

}  // namespace
}  // namespace vmm::testing
