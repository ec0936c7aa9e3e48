// An arm64 guest under TCG (issue 15): Debian's arm64 kernel and busybox (scripts/guest-assets.sh
// with VMM_GUEST_ARCH=arm64) on qemu-system-aarch64's virt machine, chosen through
// QemuOptions::guest_arch. On this x86_64 machine the guest is emulated, which is what proves the
// aarch64 command line (virt, gic-version=max, -cpu max, PCI virtio devices) against real QEMU.
// One boot checks the architecture and machine from inside the guest, then a snapshot round trip.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "guest_fixture.hpp"
#include "support/guest_agent.hpp"
#include "support/wait.hpp"

namespace vmm::testing {
namespace {

using namespace std::chrono_literals;
using support::GuestAgent;

// Emulating arm64 on 2 cores: the boot takes 20-40 s idle, far more under load.
constexpr auto kArm64Boot = std::chrono::milliseconds(420s);

GuestAssets find_arm64_guest_assets() {
  GuestAssets assets;
  const char* dir = std::getenv("VMM_GUEST_ARM64_DIR");
  const std::filesystem::path guest_dir = dir != nullptr ? dir : VMM_GUEST_ARM64_DIR_DEFAULT;
  assets.kernel = guest_dir / "vmlinuz";
  assets.initrd = guest_dir / "initrd.img";
  std::error_code ec;
  if (!std::filesystem::exists(assets.kernel, ec) || !std::filesystem::exists(assets.initrd, ec)) {
    assets.missing = "no arm64 test guest in " + guest_dir.string() +
                     ": run VMM_GUEST_ARCH=arm64 scripts/guest-assets.sh " + guest_dir.string();
  } else if (std::system("command -v qemu-system-aarch64 >/dev/null 2>&1") != 0) {
    assets.missing = "qemu-system-aarch64 is not installed: apt-get install qemu-system-arm";
  }
  return assets;
}

TEST(QemuArm64Guest, BootsOnVirtUnderTcgAnswersFromInsideAndRestoresItsSnapshot) {
  const auto assets = find_arm64_guest_assets();
  VMM_REQUIRE_GUEST(assets);
  TempDir dir;
  auto config = guest_config(assets, "vmm.agent=1")
                    .console_port(std::string(support::agent_port_name))
                    .build();
  ASSERT_TRUE(config) << config.error().to_string();
  GuestConsole console;
  auto options = guest_create_options(console);
  options.qemu.guest_arch = Arch::aarch64;
  auto vm = VirtualMachine::create(*config, options);
  ASSERT_TRUE(vm) << vm.error().to_string();
  ASSERT_TRUE(support::await((*vm)->start(), kArm64Boot));
  EXPECT_EQ((*vm)->acceleration(), Acceleration::tcg);

  // QEMU itself is the aarch64 one, on the virt machine.
  const auto qemus = child_qemu_pids();
  ASSERT_EQ(qemus.size(), 1U);
  std::ifstream cmdline("/proc/" + std::to_string(qemus.front()) + "/cmdline");
  std::string argv((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
  EXPECT_NE(argv.find("qemu-system-aarch64"), std::string::npos);
  EXPECT_NE(argv.find("virt,gic-version=max"), std::string::npos);

  auto channel = (*vm)->console_port(support::agent_port_name);
  ASSERT_TRUE(channel) << channel.error().to_string();
  GuestAgent agent(std::move(*channel));
  auto arch = agent.run("uname -m", kArm64Boot);
  ASSERT_TRUE(arch) << arch.error().to_string();
  EXPECT_EQ(arch->output, "aarch64\n");
  // The device tree QEMU's virt machine hands the kernel.
  auto machine = agent.run("cat /proc/device-tree/compatible", kArm64Boot);
  ASSERT_TRUE(machine) << machine.error().to_string();
  EXPECT_NE(machine->output.find("linux,dummy-virt"), std::string::npos) << machine->output;

  // A snapshot of the emulated guest restores and continues (the counter goes on, and the
  // agent's state file written before the save is still there).
  ASSERT_EQ(agent.run("echo before-save > /tmp/mark", kArm64Boot)->status, 0);
  ASSERT_TRUE(support::await((*vm)->pause(), kArm64Boot));
  const long saved = console.last_counter();
  const auto bundle = dir.path() / "arm64.bundle";
  ASSERT_TRUE(support::await((*vm)->save(bundle), kArm64Boot));
  ASSERT_TRUE(support::await((*vm)->stop(), kArm64Boot));
  ASSERT_TRUE(support::await((*vm)->restore(bundle), kArm64Boot));
  ASSERT_TRUE(support::await((*vm)->resume(), kArm64Boot));
  EXPECT_TRUE(console.wait_counter_above(saved, kArm64Boot).has_value());
  auto again = (*vm)->console_port(support::agent_port_name);
  ASSERT_TRUE(again) << again.error().to_string();
  GuestAgent restored(std::move(*again));
  auto mark = restored.run("cat /tmp/mark", kArm64Boot);
  ASSERT_TRUE(mark) << mark.error().to_string();
  EXPECT_EQ(mark->output, "before-save\n");
  ASSERT_TRUE(support::await((*vm)->stop(), kArm64Boot));
}

}  // namespace
}  // namespace vmm::testing
