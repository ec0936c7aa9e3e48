// Disk rate limits on QEMU: one throttle-group object per limited disk, in QOM's stable `limits`
// form, and a throttle filter node that takes the disk's node name over its format node.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "qemu/command_line.hpp"
#include "test_support.hpp"
#include "vmm/vmm.hpp"

namespace vmm::qemu {
namespace {

using nlohmann::json;
using testing::ScratchDir;
using testing::values_of;

class QemuDiskLimitsTest : public ::testing::Test {
 protected:
  QemuDiskLimitsTest() {
    host_.binary = "/usr/bin/qemu-system-x86_64";
    host_.acceleration = Acceleration::tcg;
  }
  std::vector<std::string> argv(const std::vector<DiskImage>& disks) {
    auto builder = VmConfig::builder();
    builder.memory(Size::mib(256)).linux_boot(scratch_.file("vmlinuz"), std::nullopt, "console=hvc0");
    for (const auto& disk : disks) builder.disk(disk);
    auto config = builder.build();
    EXPECT_TRUE(config) << (config ? "" : config.error().to_string());
    if (!config) return {};
    auto line = build_qemu_command_line(*config, host_, QemuRuntimePaths{});
    EXPECT_TRUE(line) << (line ? "" : line.error().to_string());
    return line ? line->argv : std::vector<std::string>{};
  }
  DiskImage disk(const std::string& name) {
    DiskImage d;
    d.path = scratch_.file(name);
    return d;
  }
  ScratchDir scratch_;
  QemuHostFacts host_;
};

TEST_F(QemuDiskLimitsTest, EveryLimitAndBurstMapsToItsThrottleLimitsMember) {
  auto limited = disk("a.img");
  limited.limits.write_bytes = {1024 * 1024, 4 * 1024 * 1024, 3};
  limited.limits.read_bytes.per_second = 2 * 1024 * 1024;
  limited.limits.total_iops = {100, 0, 1};
  auto iops = disk("b.img");
  iops.limits.read_iops = {50, 200, 2};
  iops.limits.write_iops.per_second = 25;
  iops.limits.total_bytes.per_second = 8 * 1024 * 1024;
  const auto a = argv({limited, iops});
  const auto objects = values_of(a, "-object");
  std::vector<json> groups;
  for (const auto& o : objects) {
    auto parsed = json::parse(o, nullptr, false);
    if (!parsed.is_discarded() && parsed.value("qom-type", "") == "throttle-group")
      groups.push_back(parsed);
  }
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0]["id"], "throttle0");
  EXPECT_EQ(groups[0]["limits"], (json{{"bps-write", 1048576},
                                       {"bps-write-max", 4194304},
                                       {"bps-write-max-length", 3},
                                       {"bps-read", 2097152},
                                       {"iops-total", 100}}));
  EXPECT_EQ(groups[1]["id"], "throttle1");
  EXPECT_EQ(groups[1]["limits"], (json{{"iops-read", 50},
                                       {"iops-read-max", 200},
                                       {"iops-read-max-length", 2},
                                       {"iops-write", 25},
                                       {"bps-total", 8388608}}));
}

TEST_F(QemuDiskLimitsTest, AThrottleNodeTakesTheDiskNodeNameOverItsFormatNode) {
  auto limited = disk("a.img");
  limited.read_only = true;
  limited.limits.write_bytes.per_second = 1024 * 1024;
  const auto plain = disk("b.img");
  const auto a = argv({limited, plain});
  const auto blockdevs = values_of(a, "-blockdev");
  ASSERT_EQ(blockdevs.size(), 2u);
  const auto top = json::parse(blockdevs[0]);
  EXPECT_EQ(top["driver"], "throttle");
  EXPECT_EQ(top["node-name"], "disk0");
  EXPECT_EQ(top["throttle-group"], "throttle0");
  EXPECT_EQ(top["read-only"], true);
  EXPECT_EQ(top["file"]["driver"], "raw");
  EXPECT_EQ(top["file"]["node-name"], "fmt-disk0");
  EXPECT_EQ(top["file"]["file"]["filename"], limited.path.string());
  EXPECT_EQ(top["file"]["file"]["read-only"], true);
  // The device still attaches to disk0; an unlimited disk has no group and no filter.
  bool found = false;
  for (const auto& device : values_of(a, "-device"))
    found = found || device.find("drive=disk0,") != std::string::npos;
  EXPECT_TRUE(found);
  const auto second = json::parse(blockdevs[1]);
  EXPECT_EQ(second["driver"], "raw");
  EXPECT_EQ(second["node-name"], "disk1");
  EXPECT_EQ(values_of(a, "-object").size(), 1u);
}

TEST_F(QemuDiskLimitsTest, NoLimitsNoThrottleGroup) {
  const auto a = argv({disk("a.img")});
  for (const auto& o : values_of(a, "-object"))
    EXPECT_EQ(o.find("throttle"), std::string::npos) << o;
  EXPECT_EQ(json::parse(values_of(a, "-blockdev").at(0))["driver"], "raw");
}

}  // namespace
}  // namespace vmm::qemu
