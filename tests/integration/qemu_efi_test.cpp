// EFI on q35 with OVMF, proven in the guest: the test kernel (an EFI-stub kernel) boots as an EFI
// application from a FAT ESP image that the test makes with mtools (no root, no loop mount), and
// a UEFI variable the guest writes through efivarfs survives a stop and start through the VM's
// variable store. Two boots in all: OVMF under TCG is slow.
//
// How the kernel starts: OVMF's boot manager finds no \EFI\BOOT\BOOTX64.EFI on the disk and
// falls through to the built-in UEFI shell, which runs \startup.nsh. That script starts the
// kernel with its command line, where the EFI stub reads `initrd=\initrd.img` (the kernel's own
// initrd loader). A kernel installed as BOOTX64.EFI would start with an empty command line: no
// initrd, no console, no test guest.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "guest_fixture.hpp"
#include "qemu/host.hpp"
#include "support/guest_agent.hpp"
#include "support/wait.hpp"

#if defined(__linux__)  // the QEMU backend runs on Linux only

namespace vmm::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

// OVMF's shell waits 5 s before startup.nsh; the whole boot takes 20-30 s under TCG on an idle
// machine, several times that on a busy one.
constexpr auto kEfiBoot = std::chrono::milliseconds(280s);

// A variable in a vendor GUID of the test's own (efivarfs names are Name-GUID).
constexpr std::string_view kVariable =
    "/sys/firmware/efi/efivars/VmmTest-5c1e6f0a-3b2d-4e8f-9a71-2d4c8b6e0f13";

std::string quoted(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

// Makes a 64 MiB FAT ESP holding the kernel, the initrd and startup.nsh; "" or what failed.
std::string make_esp(const std::filesystem::path& image, const GuestAssets& assets,
                     const std::string& kernel_options) {
  const auto script = image.parent_path() / "startup.nsh";
  {
    std::ofstream out(script, std::ios::binary);
    // The shell's fs0: is the first FAT file system it maps: the ESP, the VM's only disk.
    out << "fs0:\r\n\\vmlinuz.efi initrd=\\initrd.img " << kernel_options << "\r\n";
    if (!out) return "cannot write " + script.string();
  }
  const std::string i = " -i " + quoted(image) + " ";
  const std::string commands[] = {
      "truncate -s 64M " + quoted(image),
      "mformat" + i + "-F ::",
      "mcopy" + i + quoted(assets.kernel) + " ::/vmlinuz.efi",
      "mcopy" + i + quoted(assets.initrd) + " ::/initrd.img",
      "mcopy" + i + quoted(script) + " ::/startup.nsh",
  };
  for (const auto& command : commands) {
    if (std::system((command + " >/dev/null 2>&1").c_str()) != 0) return "failed: " + command;
  }
  return {};
}

TEST(QemuEfiTest, BootsTheKernelFromAnEspAndKeepsAVariableAcrossARestart) {
  auto assets = find_guest_assets();
  const auto& firmware = qemu::qemu_target(qemu::HostArch::x86_64);
  std::error_code ec;
  if (assets.missing.empty() && (!std::filesystem::exists(firmware.firmware_code, ec) ||
                                 !std::filesystem::exists(firmware.firmware_vars, ec))) {
    assets.missing = "no OVMF: apt-get install ovmf (scripts/install-deps.sh)";
  }
  if (assets.missing.empty() && std::system("command -v mformat mcopy >/dev/null 2>&1") != 0) {
    assets.missing = "no mtools: apt-get install mtools (scripts/install-deps.sh)";
  }
  VMM_REQUIRE_GUEST(assets);

  TempDir dir;
  const auto esp = dir.path() / "esp.img";
  const std::string made =
      make_esp(esp, assets, "console=ttyS0 quiet panic=-1 vmm.agent=1");
  ASSERT_EQ(made, "");

  EfiBoot efi;
  efi.variable_store = dir.path() / "vars.fd";  // created from OVMF's template at first start
  auto config = VmConfig::builder()
                    .cpus(1)
                    .memory(Size::mib(256))
                    .efi_boot(efi)
                    .disk(esp)
                    .console_port(std::string(support::agent_port_name))
                    .build();
  ASSERT_TRUE(config) << config.error().to_string();
  GuestConsole console;
  auto vm = VirtualMachine::create(*config, guest_create_options(console));
  ASSERT_TRUE(vm) << vm.error().to_string();

  // First boot: EFI, the kernel's command line from startup.nsh, and a variable written.
  ASSERT_TRUE(support::await((*vm)->start(), kEfiBoot));
  ASSERT_TRUE(console.wait_for_line("VMM-GUEST-READY", kEfiBoot)) << "the guest never got ready";
  {
    auto channel = (*vm)->console_port(support::agent_port_name);
    ASSERT_TRUE(channel) << channel.error().to_string();
    support::GuestAgent agent(std::move(*channel));
    auto booted = agent.run("test -d /sys/firmware/efi && cat /proc/cmdline", kEfiBoot);
    ASSERT_TRUE(booted) << booted.error().to_string();
    EXPECT_EQ(booted->status, 0) << booted->output;
    EXPECT_THAT(booted->output, HasSubstr("initrd=\\initrd.img"));
    // efivarfs takes the 4-byte attributes (non-volatile, boot and runtime access) and the
    // data in one write: printf builds the file, cat writes it whole.
    auto written = agent.run(
        "mount -t efivarfs none /sys/firmware/efi/efivars && "
        "printf '\\007\\000\\000\\000survives-a-restart' >/tmp/var && cat /tmp/var >" +
            std::string(kVariable) + " && tail -c +5 " + std::string(kVariable),
        kEfiBoot);
    ASSERT_TRUE(written) << written.error().to_string();
    ASSERT_EQ(written->status, 0) << written->output;
    EXPECT_EQ(written->output, "survives-a-restart");
  }
  ASSERT_TRUE(support::await((*vm)->stop(), kEfiBoot));
  EXPECT_TRUE(std::filesystem::exists(efi.variable_store));

  // Second boot of the same VM, on the same store: the variable is there.
  ASSERT_TRUE(support::await((*vm)->start(), kEfiBoot));
  ASSERT_TRUE(support::wait_until([&] { return console.count("VMM-GUEST-READY") == 2; }, kEfiBoot))
      << "the guest never got ready after the restart";
  auto channel = (*vm)->console_port(support::agent_port_name);
  ASSERT_TRUE(channel) << channel.error().to_string();
  support::GuestAgent agent(std::move(*channel));
  auto read = agent.run("mount -t efivarfs none /sys/firmware/efi/efivars && tail -c +5 " +
                            std::string(kVariable),
                        kEfiBoot);
  ASSERT_TRUE(read) << read.error().to_string();
  EXPECT_EQ(read->status, 0) << read->output;
  EXPECT_EQ(read->output, "survives-a-restart");
  EXPECT_TRUE(support::await((*vm)->stop(), kEfiBoot));
}

}  // namespace
}  // namespace vmm::testing

#endif
