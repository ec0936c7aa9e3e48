#include "support/fake_vm.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <vector>

#include "machine/virtual_machine_impl.hpp"
#include "vmm/mac_address.hpp"

namespace vmm::testing {

VmConfigBuilder base_builder(const TempDir& dir) {
  auto builder = VmConfig::builder();
  builder.cpus(2)
      .memory(Size::mib(512))
      .linux_boot(dir.file("assets/vmlinuz"), std::nullopt, "console=hvc0")
      .disk(dir.file("assets/root.img"))
      .nat_network(*MacAddress::parse("52:54:00:12:34:56"))
      .vsock()
      .machine_identifier(std::vector<std::uint8_t>(16, 0x42));
  return builder;
}

VmConfig base_config(const TempDir& dir) {
  auto config = base_builder(dir).build();
  if (!config) throw std::runtime_error(config.error().to_string());
  return *config;
}

// ---- Completions ---------------------------------------------------------------------------------

VirtualMachine::Completion Completions::callback() {
  return [this](Result<void> result) {
    // Notified under the lock: a waiter that returns may destroy this object at once, and
    // must not do so while the notifying thread is still inside notify_all().
    std::lock_guard lock(mutex_);
    results_.push_back(std::move(result));
    threads_.push_back(std::this_thread::get_id());
    changed_.notify_all();
  };
}

bool Completions::wait_for(std::size_t n) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, kTimeout, [&] { return results_.size() >= n; });
}

std::size_t Completions::count() {
  std::lock_guard lock(mutex_);
  return results_.size();
}

Result<void> Completions::result(std::size_t index) {
  std::lock_guard lock(mutex_);
  return results_.at(index);
}

std::thread::id Completions::thread(std::size_t index) {
  std::lock_guard lock(mutex_);
  return threads_.at(index);
}

// ---- FakeVm --------------------------------------------------------------------------------------

FakeVm::FakeVm(const VmConfig& config, Backend backend) {
  vm = detail::make_virtual_machine(FakeEngine::make(config, control), backend);
  subscription = vm->on_state_change(log.observer());
}

void FakeVm::drive_to(VmState state) {
  auto check = [](Result<void> r) { ASSERT_TRUE(r) << r.error().to_string(); };
  switch (state) {
    case VmState::stopped:
      return;
    case VmState::running:
      check(await(vm->start()));
      return;
    case VmState::paused:
      check(await(vm->start()));
      check(await(vm->pause()));
      return;
    case VmState::error: {
      control->fail_next("start", Error(Errc::backend, "scripted start failure"));
      auto failed = await(vm->start());
      ASSERT_FALSE(failed);
      ASSERT_EQ(failed.error().code(), Errc::backend);
      return;
    }
    default:
      FAIL() << "drive_to: not a resting state: " << to_string(state);
  }
}

}  // namespace vmm::testing
