// The VmConfig -> QEMU argv decisions, without QEMU: the machine, boot, consoles, CPU and
// machine identifier, and what blocks saving. Disks are in command_line_disks_test.cpp, the
// other devices in command_line_devices_test.cpp.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "command_line_fixture.hpp"
#include "qemu/command_line.hpp"
#include "test_support.hpp"
#include "vmm/vmm.hpp"

namespace vmm::qemu {
namespace {

using testing::CommandLineTest;
using testing::has_flag;
using testing::other_devices;
using testing::values_of;

TEST_F(CommandLineTest, LinuxBootUsesMicrovmWithTheBaseFlags) {
  const auto line = command_line(linux_builder());
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->machine, MachineType::microvm);
  const auto& a = line->argv;
  EXPECT_EQ(a.front(), "/usr/bin/qemu-system-x86_64");
  EXPECT_EQ(values_of(a, "-machine"), std::vector<std::string>{"microvm,acpi=on"});
  EXPECT_EQ(values_of(a, "-accel"), std::vector<std::string>{"tcg"});
  EXPECT_TRUE(values_of(a, "-cpu").empty());
  for (const char* flag : {"-nodefaults", "-no-user-config", "-no-reboot"}) {
    EXPECT_TRUE(has_flag(a, flag)) << flag;
  }
  EXPECT_EQ(values_of(a, "-display"), std::vector<std::string>{"none"});
  EXPECT_EQ(values_of(a, "-smp"), std::vector<std::string>{"1"});
  EXPECT_EQ(values_of(a, "-m"), std::vector<std::string>{"256M"});
  EXPECT_EQ(values_of(a, "-kernel"), std::vector<std::string>{kernel_.string()});
  EXPECT_EQ(values_of(a, "-initrd"), std::vector<std::string>{initrd_.string()});
  EXPECT_EQ(values_of(a, "-append"),
            std::vector<std::string>{"console=ttyS0 quiet tsc_early_khz=2596122"});
  EXPECT_EQ(values_of(a, "-global"), std::vector<std::string>{"virtio-mmio.force-legacy=false"});
  EXPECT_FALSE(has_flag(a, "-S"));  // the engine adds run-specific flags itself
}

TEST_F(CommandLineTest, ControlAndConsoleUseTheDescriptorsTheEngineMapped) {
  paths_.qmp_fd = 7;
  paths_.console_fd = 9;
  paths_.virtio_console_fd = 11;
  const auto a = argv(linux_builder());
  EXPECT_EQ(values_of(a, "-chardev"),
            (std::vector<std::string>{"socket,id=qmp,fd=7", "socket,id=console,fd=9",
                                      "socket,id=hvc,fd=11"}));
  EXPECT_EQ(values_of(a, "-mon"), std::vector<std::string>{"chardev=qmp,mode=control"});
  EXPECT_EQ(values_of(a, "-serial"), std::vector<std::string>{"chardev:console"});
}

// console=hvc0 works on QEMU as on VZ: a virtconsole on virtio-serial over virtio-mmio (the
// modern transport that microvm's -global already selects), next to the ttyS0 UART.
TEST_F(CommandLineTest, MicrovmHasAVirtioConsoleOnVirtioMmio) {
  auto builder = VmConfig::builder();
  builder.cpus(1).memory(Size::mib(256)).linux_boot(kernel_, initrd_, "console=hvc0");
  const auto line = command_line(builder);
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->machine, MachineType::microvm);
  EXPECT_EQ(values_of(line->argv, "-global"),
            std::vector<std::string>{"virtio-mmio.force-legacy=false"});
  EXPECT_EQ(values_of(line->argv, "-device"),
            (std::vector<std::string>{"virtio-serial-device,id=virtio-serial0",
                                      "virtconsole,bus=virtio-serial0.0,chardev=hvc,id=hvc0"}));
  EXPECT_EQ(values_of(line->argv, "-chardev").back(), "socket,id=hvc,fd=5");
  EXPECT_EQ(values_of(line->argv, "-serial"), std::vector<std::string>{"chardev:console"});
  EXPECT_EQ(line->input_console, ConsoleDevice::virtio);
}

// The log before hvc0 exists goes to the UART as an early console; a command line that picks
// its own early console keeps it.
TEST_F(CommandLineTest, Hvc0GetsTheUartAsEarlyConsoleUnlessOneIsNamed) {
  host_.tsc_khz = 0;
  const auto append_for = [&](std::string cmdline) {
    auto builder = VmConfig::builder();
    builder.cpus(1).memory(Size::mib(256)).linux_boot(kernel_, initrd_, std::move(cmdline));
    return values_of(argv(builder), "-append");
  };
  EXPECT_EQ(append_for("console=hvc0 quiet"),
            std::vector<std::string>{
                "console=hvc0 quiet earlycon=uart8250,io,0x3f8,115200"});
  EXPECT_EQ(append_for("console=hvc0 earlycon"),
            std::vector<std::string>{"console=hvc0 earlycon"});
  EXPECT_EQ(append_for("earlyprintk=ttyS0 console=hvc0"),
            std::vector<std::string>{"earlyprintk=ttyS0 console=hvc0"});
  EXPECT_EQ(append_for("console=ttyS0 quiet"),
            std::vector<std::string>{"console=ttyS0 quiet"});
  EXPECT_EQ(append_for("console=hvc0 console=ttyS0"),
            std::vector<std::string>{"console=hvc0 console=ttyS0"});
}

TEST_F(CommandLineTest, Q35HasAVirtioConsoleOnPci) {
  DiskImage disk;
  disk.path = scratch_.file("disk.img");
  disk.bus = BlockBus::nvme;
  auto builder = VmConfig::builder();
  builder.cpus(1).memory(Size::mib(256)).linux_boot(kernel_, initrd_, "console=hvc0").disk(disk);
  const auto line = command_line(builder);
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->machine, MachineType::q35);
  const auto devices = values_of(line->argv, "-device");
  ASSERT_EQ(devices.size(), 3u);
  EXPECT_EQ(devices[0], "virtio-serial-pci,id=virtio-serial0");
  EXPECT_EQ(devices[1], "virtconsole,bus=virtio-serial0.0,chardev=hvc,id=hvc0");
  EXPECT_EQ(line->input_console, ConsoleDevice::virtio);
}

// Host input goes to the console the kernel made /dev/console: its last console= argument.
TEST_F(CommandLineTest, InputGoesToTheLastConsoleOnTheKernelCommandLine) {
  const auto input_for = [&](std::string cmdline) {
    auto builder = VmConfig::builder();
    builder.cpus(1).memory(Size::mib(256)).linux_boot(kernel_, initrd_, std::move(cmdline));
    auto line = command_line(builder);
    EXPECT_TRUE(line.has_value());
    return line ? line->input_console : ConsoleDevice::serial;
  };
  EXPECT_EQ(input_for("console=ttyS0 quiet"), ConsoleDevice::serial);
  EXPECT_EQ(input_for("quiet console=hvc0"), ConsoleDevice::virtio);
  EXPECT_EQ(input_for("console=hvc0 console=ttyS0,115200"), ConsoleDevice::serial);
  EXPECT_EQ(input_for("console=ttyS0\tconsole=hvc1"), ConsoleDevice::virtio);
  EXPECT_EQ(input_for("quiet"), ConsoleDevice::serial);
  EXPECT_EQ(input_for("netconsole=hvc0 xconsole=hvc0"), ConsoleDevice::serial);
  EXPECT_EQ(input_for(""), ConsoleDevice::serial);
}

TEST_F(CommandLineTest, NoTscHintWhenTheHostFrequencyIsUnknown) {
  host_.tsc_khz = 0;
  EXPECT_EQ(values_of(argv(linux_builder()), "-append"),
            std::vector<std::string>{"console=ttyS0 quiet"});
}

TEST_F(CommandLineTest, KvmUsesTheHostCpu) {
  host_.acceleration = Acceleration::kvm;
  const auto a = argv(linux_builder());
  EXPECT_EQ(values_of(a, "-accel"), std::vector<std::string>{"kvm"});
  EXPECT_EQ(values_of(a, "-cpu"), std::vector<std::string>{"host"});
}

TEST_F(CommandLineTest, SixteenByteIdentifierIsTheUuid) {
  std::vector<std::uint8_t> id;
  for (std::uint8_t i = 0; i < 16; ++i) id.push_back(i);
  auto builder = linux_builder();
  builder.machine_identifier(id);
  EXPECT_EQ(values_of(argv(builder), "-uuid"),
            std::vector<std::string>{"00010203-0405-0607-0809-0a0b0c0d0e0f"});
  EXPECT_EQ(machine_uuid_bytes(id), id);
}

TEST_F(CommandLineTest, OtherIdentifierLengthsHashToAStableVersion8Uuid) {
  const std::vector<std::uint8_t> a = {1, 2, 3};
  const std::vector<std::uint8_t> b = {1, 2, 4};
  const auto uuid = machine_uuid(a);
  ASSERT_EQ(uuid.size(), 36u);
  EXPECT_EQ(uuid, machine_uuid(a));
  EXPECT_NE(uuid, machine_uuid(b));
  EXPECT_EQ(uuid[14], '8');                                   // version
  EXPECT_NE(std::string("89ab").find(uuid[19]), std::string::npos);  // variant
  EXPECT_EQ(machine_uuid_bytes(a).size(), 16u);
}

TEST_F(CommandLineTest, EfiBootUsesOvmfFlashOnQ35WithPciDevices) {
  host_.ovmf_code = "/usr/share/OVMF/OVMF_CODE.fd";
  host_.ovmf_vars = "/usr/share/OVMF/OVMF_VARS.fd";
  EfiBoot efi;
  efi.variable_store = scratch_.path() / "vars,1.fd";
  auto builder = VmConfig::builder();
  builder.cpus(2).memory(Size::gib(1)).efi_boot(efi).disk(scratch_.file("disk.img"));
  const auto line = command_line(builder);
  ASSERT_TRUE(line.has_value()) << line.error().to_string();
  EXPECT_EQ(line->machine, MachineType::q35);
  EXPECT_EQ(values_of(line->argv, "-drive"),
            (std::vector<std::string>{
                "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE.fd",
                "if=pflash,format=raw,unit=1,file=" + (scratch_.path() / "vars,,1.fd").string()}));
  EXPECT_FALSE(has_flag(line->argv, "-kernel"));
  EXPECT_EQ(values_of(line->argv, "-m"), std::vector<std::string>{"1024M"});
  EXPECT_EQ(other_devices(line->argv),
            std::vector<std::string>{"virtio-blk-pci,drive=disk0,werror=report,rerror=report"});
}

TEST_F(CommandLineTest, EfiBootWithoutFirmwareIsUnsupportedNamingThePackage) {
  EfiBoot efi;
  efi.variable_store = scratch_.path() / "vars.fd";
  auto builder = VmConfig::builder();
  builder.cpus(1).memory(Size::mib(256)).efi_boot(efi);
  expect_unsupported(builder, "ovmf");
}

TEST_F(CommandLineTest, RosettaIsUnsupported) {
  auto builder = linux_builder();
  builder.rosetta("rosetta");
  expect_unsupported(builder, "rosetta");
}

TEST_F(CommandLineTest, NestedVirtualizationNeedsKvmWithNesting) {
  auto builder = linux_builder();
  builder.nested_virtualization();
  expect_unsupported(builder, "TCG");
  host_.acceleration = Acceleration::kvm;
  expect_unsupported(builder, "nested=1");
  host_.kvm_nested = true;
  EXPECT_EQ(values_of(argv(builder), "-cpu"), std::vector<std::string>{"host"});
}

TEST_F(CommandLineTest, SavingIsBlockedBySharesAndNvmeDisksOnly) {
  auto plain = linux_builder();
  DiskImage usb;
  usb.path = scratch_.file("usb.img");
  usb.bus = BlockBus::usb;
  plain.disk(scratch_.file("disk.img")).disk(usb).nat_network().entropy().balloon();
  EXPECT_TRUE(check_qemu_save_support(build(plain)));

  auto shared = linux_builder();
  shared.share("data", scratch_.dir("shared"));
  const auto share_blocked = check_qemu_save_support(build(shared));
  ASSERT_FALSE(share_blocked);
  EXPECT_EQ(share_blocked.error().code(), Errc::unsupported);
  EXPECT_NE(share_blocked.error().message().find("shares[0] (data)"), std::string::npos);

  DiskImage nvme;
  nvme.path = scratch_.file("nvme.img");
  nvme.bus = BlockBus::nvme;
  auto with_nvme = linux_builder();
  with_nvme.disk(scratch_.file("disk.img")).disk(nvme);
  const auto nvme_blocked = check_qemu_save_support(build(with_nvme));
  ASSERT_FALSE(nvme_blocked);
  EXPECT_EQ(nvme_blocked.error().code(), Errc::unsupported);
  EXPECT_NE(nvme_blocked.error().message().find("disks[1]"), std::string::npos);
}

TEST(EscapeOptionValue, DoublesCommasOnly) {
  EXPECT_EQ(escape_option_value("a,b,,c=d"), "a,,b,,,,c=d");
  EXPECT_EQ(escape_option_value(""), "");
}

}  // namespace
}  // namespace vmm::qemu
