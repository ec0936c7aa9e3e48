// VmPool against real QEMU: waiting clone processes of one template, handed out running,
// replaced when they die, and all gone when the pool is.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "guest_fixture.hpp"
#include "support/wait.hpp"
#include "template_fixture.hpp"

namespace vmm::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr auto kFill = std::chrono::milliseconds(180s);

class QemuVmPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    assets_ = find_guest_assets();
    VMM_REQUIRE_GUEST(assets_);
    bundle_ = dir_.path() / "template";
    auto made = make_template(assets_, bundle_);
    ASSERT_TRUE(made.failure.empty()) << made.failure;
    saved_at_ = made.saved_at;
  }
  void TearDown() override { EXPECT_THAT(child_qemu_pids(), IsEmpty()); }

  std::unique_ptr<VmPool> make_pool(std::size_t size) {
    VmPoolOptions options;
    options.size = size;
    options.create.backend = Backend::qemu;
    auto pool = VmPool::create(bundle_, options);
    EXPECT_TRUE(pool) << pool.error().to_string();
    return pool ? std::move(*pool) : nullptr;
  }

  GuestAssets assets_;
  TempDir dir_;
  fs::path bundle_;
  long saved_at_ = -1;
};

TEST_F(QemuVmPoolTest, HandsOutRunningClonesThatContinueTheTemplatesGuest) {
  auto pool = make_pool(2);
  ASSERT_NE(pool, nullptr);
  ASSERT_TRUE(pool->wait_full(kFill)) << "the pool did not fill";
  EXPECT_EQ(pool->ready(), 2u);
  EXPECT_EQ(child_qemu_pids().size(), 2u) << "the pool does not hold its processes";

  GuestConsole consoles[3];
  std::vector<std::shared_ptr<VirtualMachine>> taken;
  for (auto& console : consoles) {  // the third is made while the pool refills, or cold
    auto vm = pool->take(console.sink());
    ASSERT_TRUE(vm) << vm.error().to_string();
    EXPECT_EQ((*vm)->state(), VmState::running);
    taken.push_back(std::move(*vm));
  }
  for (auto& console : consoles) {
    const auto next = console.wait_counter_above(saved_at_, kEvent);
    ASSERT_TRUE(next) << "a pooled clone did not continue the template's counter";
    EXPECT_EQ(console.count("VMM-GUEST-READY"), 0) << "a pooled clone booted";
  }
  // Taken VMs are the caller's: the pool refills up to its size beside them.
  ASSERT_TRUE(pool->wait_full(kFill));
  EXPECT_EQ(child_qemu_pids().size(), 3u + 2u);
  for (auto& vm : taken) ASSERT_TRUE(vm->stop().get());
  taken.clear();
  pool.reset();
}

TEST_F(QemuVmPoolTest, AProcessKilledWhileWaitingIsReplacedNotHandedOut) {
  auto pool = make_pool(1);
  ASSERT_NE(pool, nullptr);
  ASSERT_TRUE(pool->wait_full(kFill));
  const auto before = child_qemu_pids();
  ASSERT_EQ(before.size(), 1u);
  ASSERT_EQ(::kill(before[0], SIGKILL), 0);
  // The dead one is dropped, and a new process takes its place.
  ASSERT_TRUE(support::wait_until(
      [&] {
        const auto now = child_qemu_pids();
        return now.size() == 1u && now[0] != before[0] && pool->ready() == 1u;
      },
      kFill))
      << "the killed process was not replaced";
  GuestConsole console;
  auto vm = pool->take(console.sink());
  ASSERT_TRUE(vm) << vm.error().to_string();
  ASSERT_TRUE(console.wait_counter_above(saved_at_, kEvent));
  ASSERT_TRUE((*vm)->stop().get());
}

TEST_F(QemuVmPoolTest, DestroyingThePoolLeavesNoQemuBehind) {
  auto pool = make_pool(3);
  ASSERT_NE(pool, nullptr);
  ASSERT_TRUE(pool->wait_full(kFill));
  EXPECT_EQ(child_qemu_pids().size(), 3u);
  pool.reset();
  EXPECT_THAT(child_qemu_pids(), IsEmpty());
}

TEST_F(QemuVmPoolTest, OnlyTemplateBundlesMakeAPool) {
  VmPoolOptions options;
  options.size = 0;
  auto empty = VmPool::create(bundle_, options);
  ASSERT_FALSE(empty);
  EXPECT_THAT(empty.error().message(), HasSubstr("size 0"));

  // A full bundle is not a template.
  GuestConsole console;
  auto manifest = read_snapshot_manifest(bundle_);
  ASSERT_TRUE(manifest);
  auto vm = VirtualMachine::create(manifest->config, guest_create_options(console));
  ASSERT_TRUE(vm);
  ASSERT_TRUE((*vm)->restore(bundle_).get());
  const auto full = dir_.path() / "full";
  ASSERT_TRUE((*vm)->save(full).get());
  ASSERT_TRUE((*vm)->stop().get());
  auto refused = VmPool::create(full, {});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Errc::invalid_config);
  EXPECT_THAT(refused.error().message(), HasSubstr("not a template bundle"));
}

}  // namespace
}  // namespace vmm::testing
