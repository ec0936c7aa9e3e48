// Disks whose path is a block device: planned for VZDiskBlockDeviceStorageDeviceAttachment
// (macOS 14, raw only, full or no synchronisation) and opened with the access the disk asks for.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/types.h>
#if __has_include(<sys/sysmacros.h>)
#include <sys/sysmacros.h>  // makedev on Linux; <sys/types.h> has it on macOS
#endif

#include <cerrno>
#include <cstring>
#include <string>

#include <nlohmann/json.hpp>

#include "config/json.hpp"
#include "test_support.hpp"
#include "vz/block_device.hpp"
#include "vz/plan.hpp"

namespace vmm::vz {
namespace {

using test::mac;
using test::Scratch;

DiskImage disk_at(const std::filesystem::path& path, SyncMode sync, bool read_only = false,
                  DiskFormat format = DiskFormat::raw, BlockBus bus = BlockBus::virtio) {
  return DiskImage{path, format, read_only, CachingMode::cached, sync, bus, std::nullopt, {}};
}

// Says "block device" for the one path given, as make_checked_plan's real check would.
PlanOptions block_device_is(const std::filesystem::path& device) {
  PlanOptions options;
  options.is_block_device = [device](const std::filesystem::path& path) { return path == device; };
  return options;
}

TEST(VzBlockDevice, PlansTheBlockDeviceAttachmentForADeviceAndTheImageOneOtherwise) {
  Scratch scratch;
  const auto device = scratch.file("rdisk4");
  const auto image = scratch.file("disk.img");
  const auto config = test::built(scratch.linux_builder()
                                      .disk(disk_at(device, SyncMode::fsync, true))
                                      .disk(disk_at(image, SyncMode::fsync)));
  auto plan = make_plan(config, mac(14), block_device_is(device));
  ASSERT_TRUE(plan) << plan.error().to_string();
  ASSERT_EQ(plan->storage.size(), 2u);
  EXPECT_TRUE(plan->storage[0].block_device);
  EXPECT_TRUE(plan->storage[0].read_only);
  EXPECT_EQ(plan->storage[0].path, device);
  EXPECT_FALSE(plan->storage[1].block_device);
  // VZDiskSynchronizationMode has no fsync-only mode: fsync is planned as full for a device,
  // and stays fsync for an image file.
  EXPECT_EQ(plan->storage[0].sync, SyncMode::full);
  EXPECT_EQ(plan->storage[1].sync, SyncMode::fsync);
}

TEST(VzBlockDevice, SynchronisationFullAndNoneAreKept) {
  Scratch scratch;
  const auto device = scratch.file("disk5");
  for (const SyncMode sync : {SyncMode::full, SyncMode::none}) {
    const auto config = test::built(scratch.linux_builder().disk(disk_at(device, sync)));
    auto plan = make_plan(config, mac(14), block_device_is(device));
    ASSERT_TRUE(plan) << plan.error().to_string();
    EXPECT_EQ(plan->storage[0].sync, sync);
    EXPECT_TRUE(plan->storage[0].block_device);
  }
}

TEST(VzBlockDevice, NeedsMacos14) {
  Scratch scratch;
  const auto device = scratch.file("disk6");
  const auto config = test::built(scratch.linux_builder().disk(disk_at(device, SyncMode::full)));
  auto plan = make_plan(config, mac(13, 6), block_device_is(device));
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code(), Errc::unsupported);
  for (const std::string word : {"disk6", "block devices", "macOS 14", "13.6"}) {
    EXPECT_NE(plan.error().message().find(word), std::string::npos) << plan.error().message();
  }
  // The same file as an image plans on macOS 13.
  EXPECT_TRUE(make_plan(config, mac(13, 6), PlanOptions{}));
}

TEST(VzBlockDevice, OnlyRawBecauseTheDeviceIsAttachedAsItIs) {
  Scratch scratch;
  const auto device = scratch.file("disk7");
  for (const DiskFormat format : {DiskFormat::asif, DiskFormat::qcow2}) {
    const auto config = test::built(
        scratch.linux_builder().disk(disk_at(device, SyncMode::full, false, format)));
    auto plan = make_plan(config, mac(26), block_device_is(device));
    ASSERT_FALSE(plan) << to_string(format);
    EXPECT_EQ(plan.error().code(), Errc::invalid_config);
    EXPECT_NE(plan.error().message().find("block device"), std::string::npos)
        << plan.error().message();
    EXPECT_NE(plan.error().message().find(std::string(to_string(format))), std::string::npos)
        << plan.error().message();
  }
}

TEST(VzBlockDevice, BusRulesStillApply) {
  Scratch scratch;
  const auto device = scratch.file("disk8");
  const auto nvme = test::built(scratch.linux_builder().disk(
      disk_at(device, SyncMode::full, false, DiskFormat::raw, BlockBus::nvme)));
  auto plan = make_plan(nvme, mac(14), block_device_is(device));
  ASSERT_TRUE(plan) << plan.error().to_string();
  EXPECT_EQ(plan->storage[0].bus, BlockBus::nvme);
  EXPECT_TRUE(plan->storage[0].block_device);
}

// A block device to examine: a loop-driver node (major 7) made in the scratch directory when
// mknod is allowed (Linux CI runs as root), else the first block device in /dev (/dev/disk0 on
// a Mac, whose CI runners are not root). Neither is opened.
std::filesystem::path some_block_device(const Scratch& scratch) {
  const auto node = scratch.dir() / "block-node";
  if (::mknod(node.c_str(), S_IFBLK | 0600, makedev(7, 0)) == 0) return node;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/dev", ec)) {
    std::error_code type_ec;
    if (entry.is_block_file(type_ec)) return entry.path();
  }
  ADD_FAILURE() << "no block device to test with: mknod failed (" << std::strerror(errno)
                << ") and /dev has none";
  return scratch.dir() / "none";
}

TEST(VzBlockDevice, RecognisesABlockDeviceNode) {
  Scratch scratch;
  const auto node = some_block_device(scratch);
  EXPECT_TRUE(is_block_device(node)) << node;
  EXPECT_FALSE(is_block_device(scratch.file("plain.img")));
  EXPECT_FALSE(is_block_device(scratch.dir() / "missing"));
  const auto link = scratch.dir() / "link-to-node";
  std::filesystem::create_symlink(node, link);
  EXPECT_TRUE(is_block_device(link));
}

TEST(VzBlockDevice, CheckedPlanExaminesTheDisks) {
  Scratch scratch;
  const auto device = some_block_device(scratch);
  const auto image = scratch.file("disk.img");
  // The config names the device without opening it (host checks off, as for a manifest's
  // config), so that no test needs the right to open a real disk.
  auto document = nlohmann::json::parse(test::built(scratch.linux_builder()
                                                        .disk(disk_at(image, SyncMode::fsync, true))
                                                        .disk(disk_at(image, SyncMode::fsync, true)))
                                            .to_json());
  document["disks"][1]["path"] = device.string();
  auto config = detail::config_from_json(document, detail::HostChecks::off, "$");
  ASSERT_TRUE(config) << config.error().to_string();
  auto plan = make_checked_plan(*config, mac(14), PlanOptions{});
  ASSERT_TRUE(plan) << plan.error().to_string();
  EXPECT_FALSE(plan->storage[0].block_device);
  EXPECT_TRUE(plan->storage[1].block_device);
  EXPECT_EQ(plan->storage[1].path, device);
}

int access_mode(int fd) { return ::fcntl(fd, F_GETFL) & O_ACCMODE; }

TEST(VzBlockDevice, OpensReadOnlyOrReadWriteAsTheDiskAsks) {
  Scratch scratch;
  StoragePlan disk;
  disk.path = scratch.file("device", "bytes");
  disk.block_device = true;
  disk.read_only = true;
  auto read_only = open_block_device(disk);
  ASSERT_TRUE(read_only) << read_only.error().to_string();
  EXPECT_EQ(access_mode(read_only->get()), O_RDONLY);
  EXPECT_NE(::fcntl(read_only->get(), F_GETFD) & FD_CLOEXEC, 0);
  disk.read_only = false;
  auto read_write = open_block_device(disk);
  ASSERT_TRUE(read_write) << read_write.error().to_string();
  EXPECT_EQ(access_mode(read_write->get()), O_RDWR);
}

TEST(VzBlockDevice, OpenFailureNamesTheDisk) {
  Scratch scratch;
  StoragePlan disk;
  disk.path = scratch.dir() / "gone";
  disk.block_device = true;
  auto fd = open_block_device(disk);
  ASSERT_FALSE(fd);
  EXPECT_EQ(fd.error().code(), Errc::not_found);
  EXPECT_NE(fd.error().message().find("\"" + disk.path.string() + "\""), std::string::npos)
      << fd.error().message();
  EXPECT_NE(fd.error().message().find("block device"), std::string::npos);
}

}  // namespace
}  // namespace vmm::vz
