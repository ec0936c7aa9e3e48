// VZVirtualMachineState -> VmState.
#include <gtest/gtest.h>

#include "vz/vz_state.hpp"

namespace vmm::vz {
namespace {

TEST(VzState, EveryVzStateMaps) {
  EXPECT_EQ(vm_state_from_vz(0), VmState::stopped);
  EXPECT_EQ(vm_state_from_vz(1), VmState::running);
  EXPECT_EQ(vm_state_from_vz(2), VmState::paused);
  EXPECT_EQ(vm_state_from_vz(3), VmState::error);
  EXPECT_EQ(vm_state_from_vz(4), VmState::starting);
  EXPECT_EQ(vm_state_from_vz(5), VmState::pausing);
  EXPECT_EQ(vm_state_from_vz(6), VmState::resuming);
  EXPECT_EQ(vm_state_from_vz(7), VmState::stopping);
  EXPECT_EQ(vm_state_from_vz(8), VmState::saving);
  EXPECT_EQ(vm_state_from_vz(9), VmState::restoring);
}

TEST(VzState, UnknownStatesAreNotGuessed) {
  EXPECT_FALSE(vm_state_from_vz(10));
  EXPECT_FALSE(vm_state_from_vz(-1));
}

}  // namespace
}  // namespace vmm::vz
