// The VmConfig -> QEMU argv decisions for disks, without QEMU: -blockdev nodes and their cache
// knobs, block devices, and the virtio, NVMe and USB buses.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "command_line_fixture.hpp"
#include "qemu/command_line.hpp"
#include "test_support.hpp"
#include "vmm/vmm.hpp"

namespace vmm::qemu {
namespace {

using nlohmann::json;
using testing::CommandLineTest;
using testing::other_devices;
using testing::values_of;

TEST_F(CommandLineTest, RawDiskIsAVirtioBlockDeviceWithCachedFsyncDefaults) {
  const auto disk = scratch_.file("disk.img");
  auto builder = linux_builder();
  builder.disk(disk);
  const auto a = argv(builder);
  const auto blockdevs = values_of(a, "-blockdev");
  ASSERT_EQ(blockdevs.size(), 1u);
  const auto node = json::parse(blockdevs[0]);
  EXPECT_EQ(node["driver"], "raw");
  EXPECT_EQ(node["node-name"], "disk0");
  EXPECT_EQ(node["read-only"], false);
  EXPECT_EQ(node["file"]["driver"], "file");
  EXPECT_EQ(node["file"]["filename"], disk.string());
  EXPECT_EQ(node["file"]["cache"]["direct"], false);
  EXPECT_EQ(node["file"]["cache"]["no-flush"], false);
  EXPECT_EQ(other_devices(a), std::vector<std::string>{"virtio-blk-device,drive=disk0,werror=report,rerror=report"});
}

TEST_F(CommandLineTest, UncachedUnsyncedReadOnlyQcow2MapsToQemuCacheKnobs) {
  DiskImage disk;
  disk.path = scratch_.file("disk.qcow2");
  disk.format = DiskFormat::qcow2;
  disk.read_only = true;
  disk.caching = CachingMode::uncached;
  disk.sync = SyncMode::none;
  disk.device_id = "serial,with,commas";
  auto builder = linux_builder();
  builder.disk(disk);
  const auto a = argv(builder);
  const auto node = json::parse(values_of(a, "-blockdev").at(0));
  EXPECT_EQ(node["driver"], "qcow2");
  EXPECT_EQ(node["read-only"], true);
  EXPECT_EQ(node["file"]["read-only"], true);
  EXPECT_EQ(node["cache"]["direct"], true);
  EXPECT_EQ(node["cache"]["no-flush"], true);
  EXPECT_EQ(other_devices(a),
            std::vector<std::string>{"virtio-blk-device,drive=disk0,serial=serial,,with,,commas,werror=report,rerror=report"});
}

// QEMU refuses a block device under the `file` driver; host_device takes the same options, so
// read-only and the caching/sync modes map as for an image file. Regular files keep `file`.
TEST_F(CommandLineTest, BlockDeviceDisksUseTheHostDeviceDriver) {
  // The engine's stat decides what is a block device; the builder only reads its answer, so
  // plain files stand in for the devices here.
  DiskImage read_only_device;
  read_only_device.path = scratch_.file("sdb");
  read_only_device.read_only = true;
  read_only_device.caching = CachingMode::uncached;
  read_only_device.sync = SyncMode::none;
  DiskImage qcow2_device;
  qcow2_device.path = scratch_.file("lv0");
  qcow2_device.format = DiskFormat::qcow2;
  const auto file = scratch_.file("disk.img");
  auto builder = linux_builder();
  builder.disk(read_only_device).disk(qcow2_device).disk(file);
  paths_.disk_is_block_device = {true, true};  // the third disk has no entry: a file
  const auto a = argv(builder);
  const auto blockdevs = values_of(a, "-blockdev");
  ASSERT_EQ(blockdevs.size(), 3u);

  const auto ro = json::parse(blockdevs[0]);
  EXPECT_EQ(ro["driver"], "raw");
  EXPECT_EQ(ro["read-only"], true);
  EXPECT_EQ(ro["file"]["driver"], "host_device");
  EXPECT_EQ(ro["file"]["filename"], read_only_device.path.string());
  EXPECT_EQ(ro["file"]["read-only"], true);
  EXPECT_EQ(ro["file"]["cache"]["direct"], true);
  EXPECT_EQ(ro["file"]["cache"]["no-flush"], true);

  const auto qcow2 = json::parse(blockdevs[1]);
  EXPECT_EQ(qcow2["driver"], "qcow2");
  EXPECT_EQ(qcow2["file"]["driver"], "host_device");
  EXPECT_EQ(qcow2["file"]["read-only"], false);
  EXPECT_EQ(qcow2["file"]["cache"]["direct"], false);
  EXPECT_EQ(qcow2["file"]["cache"]["no-flush"], false);

  EXPECT_EQ(json::parse(blockdevs[2])["file"]["driver"], "file");
  // The guest sees the same virtio disk either way.
  EXPECT_EQ(other_devices(a),
            (std::vector<std::string>{
                "virtio-blk-device,drive=disk0,werror=report,rerror=report",
                "virtio-blk-device,drive=disk1,werror=report,rerror=report",
                "virtio-blk-device,drive=disk2,werror=report,rerror=report"}));
}

TEST_F(CommandLineTest, AutomaticCachingUsesThePageCacheAndFullSyncHonoursFlushes) {
  DiskImage disk;
  disk.path = scratch_.file("disk.img");
  disk.caching = CachingMode::automatic;
  disk.sync = SyncMode::full;
  auto builder = linux_builder();
  builder.disk(disk);
  const auto node = json::parse(values_of(argv(builder), "-blockdev").at(0));
  EXPECT_EQ(node["cache"]["direct"], false);
  EXPECT_EQ(node["cache"]["no-flush"], false);
}

TEST_F(CommandLineTest, AsifDisksAreUnsupported) {
  DiskImage disk;
  disk.path = scratch_.file("disk.asif");
  disk.format = DiskFormat::asif;
  auto builder = linux_builder();
  builder.disk(disk);
  expect_unsupported(builder, "asif");
}

TEST_F(CommandLineTest, NvmeDiskNeedsPciSoTheMachineIsQ35WithASerial) {
  DiskImage disk;
  disk.path = scratch_.file("disk.img");
  disk.bus = BlockBus::nvme;
  auto builder = linux_builder();
  builder.disk(disk);
  const auto line = command_line(builder);
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->machine, MachineType::q35);
  EXPECT_EQ(values_of(line->argv, "-machine"), std::vector<std::string>{"q35"});
  EXPECT_TRUE(values_of(line->argv, "-global").empty());
  // No TSC hint on q35: it has HPET and the PM timer.
  EXPECT_EQ(values_of(line->argv, "-append"), std::vector<std::string>{"console=ttyS0 quiet"});
  EXPECT_EQ(other_devices(line->argv),
            std::vector<std::string>{"nvme,drive=disk0,serial=vmm-disk0"});
}

TEST_F(CommandLineTest, UsbDisksShareOneXhciController) {
  auto builder = linux_builder();
  for (int i = 0; i < 2; ++i) {
    DiskImage disk;
    disk.path = scratch_.file(fmt::format("disk{}.img", i));
    disk.bus = BlockBus::usb;
    disk.device_id = fmt::format("usb{}", i);
    builder.disk(disk);
  }
  EXPECT_EQ(other_devices(argv(builder)),
            (std::vector<std::string>{"qemu-xhci,id=usb",
                                      "usb-storage,bus=usb.0,drive=disk0,serial=usb0,werror=report,rerror=report",
                                      "usb-storage,bus=usb.0,drive=disk1,serial=usb1,werror=report,rerror=report"}));
}

}  // namespace
}  // namespace vmm::qemu
