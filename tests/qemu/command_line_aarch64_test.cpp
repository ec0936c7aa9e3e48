// The QEMU command line on an arm64 Linux host (Graviton, Ampere, QEMU on Apple silicon):
// qemu-system-aarch64's virt machine, its GIC and CPU, PCI virtio devices, the PL011 early
// console and AAVMF for EFI. Only the argv is checked here: no arm64 guest boots on this x86_64
// machine (docs/verification.md).
#include <gtest/gtest.h>

#include "qemu/command_line.hpp"
#include "qemu/host.hpp"
#include "test_support.hpp"
#include "vmm/vmm.hpp"

namespace vmm::qemu {
namespace {

using testing::has_flag;
using testing::ScratchDir;
using testing::values_of;

class CommandLineAarch64Test : public ::testing::Test {
 protected:
  CommandLineAarch64Test() {
    kernel_ = scratch_.file("Image");
    host_.arch = HostArch::aarch64;
    host_.binary = "/usr/bin/qemu-system-aarch64";
    host_.acceleration = Acceleration::tcg;
  }

  Result<QemuCommandLine> command_line(VmConfigBuilder builder) {
    auto config = builder.build();
    EXPECT_TRUE(config.has_value()) << (config ? "" : config.error().to_string());
    return build_qemu_command_line(*config, host_, paths_);
  }

  VmConfigBuilder linux_builder(std::string cmdline = "console=ttyAMA0") {
    auto builder = VmConfig::builder();
    builder.cpus(2).memory(Size::mib(256)).linux_boot(kernel_, std::nullopt, std::move(cmdline));
    return builder;
  }

  ScratchDir scratch_;
  std::filesystem::path kernel_;
  QemuHostFacts host_;
  QemuRuntimePaths paths_;
};

TEST_F(CommandLineAarch64Test, DirectBootUsesVirtWithGicMaxAndTheMaxCpuUnderTcg) {
  const auto line = command_line(linux_builder());
  ASSERT_TRUE(line.has_value()) << line.error().to_string();
  EXPECT_EQ(line->machine, MachineType::virt);
  const auto& a = line->argv;
  EXPECT_EQ(a.front(), "/usr/bin/qemu-system-aarch64");
  EXPECT_EQ(values_of(a, "-machine"), std::vector<std::string>{"virt,gic-version=max"});
  EXPECT_EQ(values_of(a, "-accel"), std::vector<std::string>{"tcg"});
  EXPECT_EQ(values_of(a, "-cpu"), std::vector<std::string>{"max"});
  // No x86 hints: no TSC frequency, no virtio-mmio global.
  EXPECT_EQ(values_of(a, "-append"), std::vector<std::string>{"console=ttyAMA0"});
  EXPECT_TRUE(values_of(a, "-global").empty());
}

TEST_F(CommandLineAarch64Test, KvmUsesTheHostCpu) {
  host_.acceleration = Acceleration::kvm;
  const auto line = command_line(linux_builder());
  ASSERT_TRUE(line.has_value()) << line.error().to_string();
  EXPECT_EQ(values_of(line->argv, "-accel"), std::vector<std::string>{"kvm"});
  EXPECT_EQ(values_of(line->argv, "-cpu"), std::vector<std::string>{"host"});
  EXPECT_EQ(values_of(line->argv, "-machine"), std::vector<std::string>{"virt,gic-version=max"});
}

TEST_F(CommandLineAarch64Test, DevicesTakeTheirPciForms) {
  auto builder = linux_builder();
  builder.entropy().balloon().nat_network().disk(scratch_.file("disk.img"));
  const auto line = command_line(builder);
  ASSERT_TRUE(line.has_value()) << line.error().to_string();
  const auto devices = values_of(line->argv, "-device");
  for (const auto* expected : {"virtio-serial-pci,id=virtio-serial0", "virtio-rng-pci,rng=rng0",
                               "virtio-balloon-pci"}) {
    EXPECT_NE(std::find(devices.begin(), devices.end(), expected), devices.end()) << expected;
  }
  bool blk = false, net = false;
  for (const auto& device : devices) {
    blk = blk || device.rfind("virtio-blk-pci,", 0) == 0;
    net = net || device.rfind("virtio-net-pci,", 0) == 0;
    EXPECT_EQ(device.find("-device,"), std::string::npos) << "an MMIO device on virt: " << device;
  }
  EXPECT_TRUE(blk);
  EXPECT_TRUE(net);
}

TEST_F(CommandLineAarch64Test, Hvc0GetsThePl011AsEarlyConsole) {
  const auto line = command_line(linux_builder("console=hvc0"));
  ASSERT_TRUE(line.has_value()) << line.error().to_string();
  EXPECT_EQ(values_of(line->argv, "-append"),
            std::vector<std::string>{"console=hvc0 earlycon=pl011,0x9000000"});
  EXPECT_EQ(line->input_console, ConsoleDevice::virtio);
}

TEST_F(CommandLineAarch64Test, EfiBootUsesAavmfAndNamesItsPackageWhenMissing) {
  EfiBoot efi;
  efi.variable_store = scratch_.path() / "vars.fd";
  auto builder = VmConfig::builder();
  builder.cpus(1).memory(Size::mib(512)).efi_boot(efi).disk(scratch_.file("esp.img"));
  auto missing = command_line(builder);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), Errc::unsupported);
  EXPECT_NE(missing.error().message().find("/usr/share/AAVMF/AAVMF_CODE.fd"), std::string::npos)
      << missing.error().message();
  EXPECT_NE(missing.error().message().find("qemu-efi-aarch64"), std::string::npos);

  host_.ovmf_code = std::filesystem::path(qemu_target(HostArch::aarch64).firmware_code);
  host_.ovmf_vars = std::filesystem::path(qemu_target(HostArch::aarch64).firmware_vars);
  const auto line = command_line(builder);
  ASSERT_TRUE(line.has_value()) << line.error().to_string();
  EXPECT_EQ(line->machine, MachineType::virt);
  const auto drives = values_of(line->argv, "-drive");
  ASSERT_EQ(drives.size(), 2u);
  EXPECT_EQ(drives[0],
            "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/AAVMF/AAVMF_CODE.fd");
  EXPECT_FALSE(has_flag(line->argv, "-kernel"));
}

TEST(QemuTarget, EachArchitectureHasItsBinaryAndFirmware) {
  EXPECT_EQ(qemu_target(HostArch::x86_64).binary, "qemu-system-x86_64");
  EXPECT_EQ(qemu_target(HostArch::x86_64).package, "qemu-system-x86");
  EXPECT_EQ(qemu_target(HostArch::x86_64).firmware_code, "/usr/share/OVMF/OVMF_CODE.fd");
  EXPECT_EQ(qemu_target(HostArch::aarch64).binary, "qemu-system-aarch64");
  EXPECT_EQ(qemu_target(HostArch::aarch64).package, "qemu-system-arm");
  EXPECT_EQ(qemu_target(HostArch::aarch64).firmware_vars, "/usr/share/AAVMF/AAVMF_VARS.fd");
}

TEST(QemuTarget, HostArchitectureComesFromUname) {
  EXPECT_EQ(*host_arch_from_machine("x86_64"), HostArch::x86_64);
  EXPECT_EQ(*host_arch_from_machine("aarch64"), HostArch::aarch64);
  EXPECT_EQ(*host_arch_from_machine("arm64"), HostArch::aarch64);
  const auto other = host_arch_from_machine("riscv64");
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().code(), Errc::unsupported);
  EXPECT_NE(other.error().message().find("riscv64"), std::string::npos);
}

TEST(QemuTarget, Arm64KvmNeedsOnlyAnOpenableDevice) {
  // arm64's /proc/cpuinfo names no vmx/svm flag.
  const std::string_view arm_cpuinfo = "processor : 0\nFeatures : fp asimd evtstrm aes\n";
  EXPECT_EQ(*resolve_acceleration(Acceleration::automatic, true, arm_cpuinfo, HostArch::aarch64),
            Acceleration::kvm);
  EXPECT_EQ(*resolve_acceleration(Acceleration::automatic, false, arm_cpuinfo, HostArch::aarch64),
            Acceleration::tcg);
  EXPECT_EQ(*resolve_acceleration(Acceleration::automatic, true, arm_cpuinfo, HostArch::x86_64),
            Acceleration::tcg);
}

}  // namespace
}  // namespace vmm::qemu
