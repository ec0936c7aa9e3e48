// The fixture shared by the VmConfig -> QEMU argv tests (command_line*_test.cpp): an x86_64
// TCG host, a Linux-boot config builder, and queries on the argv it produces.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "qemu/command_line.hpp"
#include "test_support.hpp"
#include "vmm/vmm.hpp"

namespace vmm::qemu::testing {

// The -device values besides the virtio console's two, which every command line has (tested
// on their own in command_line_test.cpp).
inline std::vector<std::string> other_devices(const std::vector<std::string>& argv) {
  std::vector<std::string> devices;
  for (auto& device : values_of(argv, "-device")) {
    if (device.rfind("virtio-serial-", 0) != 0 && device.rfind("virtconsole,", 0) != 0) {
      devices.push_back(std::move(device));
    }
  }
  return devices;
}

class CommandLineTest : public ::testing::Test {
 protected:
  CommandLineTest() {
    kernel_ = scratch_.file("vmlinuz");
    initrd_ = scratch_.file("initrd.img");
    host_.binary = "/usr/bin/qemu-system-x86_64";
    host_.acceleration = Acceleration::tcg;
    host_.tsc_khz = 2596122;
    host_.virtiofsd = "/usr/lib/qemu/virtiofsd";
  }

  VmConfigBuilder linux_builder() {
    auto builder = VmConfig::builder();
    builder.cpus(1).memory(Size::mib(256)).linux_boot(kernel_, initrd_, "console=ttyS0 quiet");
    return builder;
  }

  VmConfig build(const VmConfigBuilder& builder) {
    auto config = builder.build();
    EXPECT_TRUE(config.has_value()) << (config ? "" : config.error().to_string());
    return *config;
  }

  Result<QemuCommandLine> command_line(const VmConfigBuilder& builder) {
    return build_qemu_command_line(build(builder), host_, paths_);
  }

  std::vector<std::string> argv(const VmConfigBuilder& builder) {
    auto line = command_line(builder);
    EXPECT_TRUE(line.has_value()) << (line ? "" : line.error().to_string());
    return line ? line->argv : std::vector<std::string>{};
  }

  void expect_unsupported(const VmConfigBuilder& builder, std::string_view mentions) {
    auto line = command_line(builder);
    ASSERT_FALSE(line.has_value());
    EXPECT_EQ(line.error().code(), Errc::unsupported);
    EXPECT_NE(line.error().message().find(mentions), std::string::npos) << line.error().message();
  }

  ScratchDir scratch_;
  std::filesystem::path kernel_;
  std::filesystem::path initrd_;
  QemuHostFacts host_;
  QemuRuntimePaths paths_;
};

}  // namespace vmm::qemu::testing
