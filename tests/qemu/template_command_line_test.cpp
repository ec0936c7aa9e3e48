// The memory backend of templates (file-backed RAM, shared) and clones (the template's RAM file,
// private), without QEMU.
#include <gtest/gtest.h>

#include "qemu/command_line.hpp"
#include "test_support.hpp"
#include "vmm/vmm.hpp"

namespace vmm::qemu {
namespace {

using testing::ScratchDir;
using testing::values_of;

class TemplateCommandLine : public ::testing::Test {
 protected:
  TemplateCommandLine() {
    host_.binary = "/usr/bin/qemu-system-x86_64";
    host_.acceleration = Acceleration::tcg;
    host_.tsc_khz = 2596122;
  }
  std::vector<std::string> argv() {
    auto config = VmConfig::builder()
                      .cpus(1)
                      .memory(Size::mib(256))
                      .linux_boot(scratch_.file("vmlinuz"), scratch_.file("initrd.img"), "quiet")
                      .build();
    EXPECT_TRUE(config) << config.error().to_string();
    auto line = build_qemu_command_line(*config, host_, paths_);
    EXPECT_TRUE(line) << line.error().to_string();
    return line ? line->argv : std::vector<std::string>{};
  }

  ScratchDir scratch_;
  QemuHostFacts host_;
  QemuRuntimePaths paths_;
};

TEST_F(TemplateCommandLine, AnonymousMemoryByDefault) {
  const auto a = argv();
  EXPECT_TRUE(values_of(a, "-object").empty());
  EXPECT_EQ(values_of(a, "-machine"), std::vector<std::string>{"microvm,acpi=on"});
}

TEST_F(TemplateCommandLine, ATemplateVmSharesItsRamFile) {
  paths_.memory_file = scratch_.path() / "memory.ram";
  const auto a = argv();
  EXPECT_EQ(values_of(a, "-machine"),
            std::vector<std::string>{"microvm,acpi=on,memory-backend=microvm.ram"});
  EXPECT_EQ(values_of(a, "-object"),
            std::vector<std::string>{"memory-backend-file,id=microvm.ram,size=256M,mem-path=" +
                                     (scratch_.path() / "memory.ram").string() + ",share=on"});
}

TEST_F(TemplateCommandLine, ACloneMapsTheTemplatesRamFilePrivatelyWithCommasEscaped) {
  paths_.memory_file = scratch_.path() / "a,b" / "memory.ram";
  paths_.memory_file_shared = false;
  const auto a = argv();
  EXPECT_EQ(values_of(a, "-object"),
            std::vector<std::string>{"memory-backend-file,id=microvm.ram,size=256M,mem-path=" +
                                     (scratch_.path() / "a,,b" / "memory.ram").string() +
                                     ",share=off"});
}

}  // namespace
}  // namespace vmm::qemu
