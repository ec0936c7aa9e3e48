// The fixture shared by the VirtualMachine integration tests (virtual_machine*_test.cpp): a VM
// of the test guest under QEMU, booted to its ready marker, with its state changes recorded.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "guest_fixture.hpp"
#include "support/state_log.hpp"

namespace vmm::testing::vm_tests {

// TCG boots take ~2.5 s on an idle 2-core machine; a loaded one (or a sanitizer build) is
// slower. These bound hangs; they are not performance assertions.
inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class VirtualMachineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    assets_ = find_guest_assets();
    VMM_REQUIRE_GUEST(assets_);
  }

  void TearDown() override {
    vm_.reset();
    // No QEMU may outlive its VirtualMachine.
    EXPECT_THAT(child_qemu_pids(), ::testing::IsEmpty());
  }

  std::shared_ptr<VirtualMachine> create(VmConfigBuilder builder) {
    auto config = builder.build();
    EXPECT_TRUE(config) << config.error().to_string();
    auto vm = VirtualMachine::create(*config, guest_create_options(console_));
    EXPECT_TRUE(vm) << vm.error().to_string();
    return *vm;
  }

  // Creates and starts the VM and waits for the guest's ready marker.
  void boot(std::string guest_options = {}) {
    vm_ = create(guest_config(assets_, std::move(guest_options)));
    subscription_ = vm_->on_state_change(states_.observer());
    auto started = vm_->start().get();
    ASSERT_TRUE(started) << started.error().to_string();
    ASSERT_EQ(vm_->state(), VmState::running);
    ASSERT_TRUE(console_.wait_for_line("VMM-GUEST-READY", kBoot)) << "the guest did not boot";
  }

  GuestAssets assets_;
  GuestConsole console_;
  StateLog states_;
  std::shared_ptr<VirtualMachine> vm_;
  Subscription subscription_;
  TempDir dir_;
};

}  // namespace vmm::testing::vm_tests
