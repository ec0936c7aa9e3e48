// The plain device value types: enum names, network_kind, LinuxBoot::full_command_line, defaults.
#include <gtest/gtest.h>

#include "vmm/devices.hpp"

namespace {

using namespace vmm;

TEST(DevicesTest, EnumNames) {
  EXPECT_EQ(to_string(DiskFormat::raw), "raw");
  EXPECT_EQ(to_string(DiskFormat::asif), "asif");
  EXPECT_EQ(to_string(DiskFormat::qcow2), "qcow2");
  EXPECT_EQ(to_string(CachingMode::automatic), "automatic");
  EXPECT_EQ(to_string(CachingMode::cached), "cached");
  EXPECT_EQ(to_string(CachingMode::uncached), "uncached");
  EXPECT_EQ(to_string(SyncMode::full), "full");
  EXPECT_EQ(to_string(SyncMode::fsync), "fsync");
  EXPECT_EQ(to_string(SyncMode::none), "none");
  EXPECT_EQ(to_string(BlockBus::virtio), "virtio");
  EXPECT_EQ(to_string(BlockBus::nvme), "nvme");
  EXPECT_EQ(to_string(BlockBus::usb), "usb");
}

TEST(DevicesTest, OutOfRangeEnumIsUnknown) {
  EXPECT_EQ(to_string(static_cast<DiskFormat>(42)), "unknown");
  EXPECT_EQ(to_string(static_cast<CachingMode>(42)), "unknown");
  EXPECT_EQ(to_string(static_cast<SyncMode>(42)), "unknown");
  EXPECT_EQ(to_string(static_cast<BlockBus>(42)), "unknown");
}

TEST(DevicesTest, NetworkKind) {
  EXPECT_EQ(network_kind(NatNetwork{}), "nat");
  EXPECT_EQ(network_kind(BridgedNetwork{"en0"}), "bridged");
  EXPECT_EQ(network_kind(FileHandleNetwork{3, 1500}), "file_handle");
  EXPECT_EQ(network_kind(UnixDatagramNetwork{"/tmp/s", 1500}), "unix_datagram");
  EXPECT_EQ(network_kind(VmnetNetwork{}), "vmnet");
  EXPECT_EQ(network_kind(TapNetwork{"tap0"}), "tap");
}

TEST(DevicesTest, FullCommandLineAppendsFragmentsInOrder) {
  LinuxBoot boot;
  boot.command_line = "console=hvc0";
  EXPECT_EQ(boot.full_command_line(), "console=hvc0");
  boot.extra_command_line = {"quiet", "loglevel=3", "init=/init"};
  EXPECT_EQ(boot.full_command_line(), "console=hvc0 quiet loglevel=3 init=/init");
}

TEST(DevicesTest, FullCommandLineHasNoLeadingSpaceWithoutABaseLine) {
  LinuxBoot boot;
  EXPECT_EQ(boot.full_command_line(), "");
  boot.extra_command_line = {"quiet", "ro"};
  EXPECT_EQ(boot.full_command_line(), "quiet ro");
}

TEST(DevicesTest, Defaults) {
  const DiskImage disk;
  EXPECT_EQ(disk.format, DiskFormat::raw);
  EXPECT_FALSE(disk.read_only);
  EXPECT_EQ(disk.caching, CachingMode::cached);
  EXPECT_EQ(disk.sync, SyncMode::fsync);
  EXPECT_EQ(disk.bus, BlockBus::virtio);
  EXPECT_FALSE(disk.device_id.has_value());

  EXPECT_EQ(FileHandleNetwork{}.fd, -1);
  EXPECT_EQ(FileHandleNetwork{}.mtu, 1500u);
  EXPECT_EQ(UnixDatagramNetwork{}.mtu, 1500u);
  EXPECT_TRUE(EfiBoot{}.create_if_missing);
  EXPECT_TRUE(SerialToFile{}.append);
  EXPECT_EQ(SerialToFd{}.fd, -1);
  EXPECT_FALSE(SharedDirectory{}.read_only);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(SerialConsole{}));
}

TEST(DevicesTest, BlockDeviceIdOrdersByIndex) {
  EXPECT_LT(BlockDeviceId{0}, BlockDeviceId{1});
  EXPECT_EQ(BlockDeviceId{7}, BlockDeviceId{7});
  EXPECT_NE(BlockDeviceId{7}, BlockDeviceId{8});
}

TEST(DevicesTest, EqualityComparesEveryField) {
  DiskImage a;
  a.path = "/a.img";
  DiskImage b = a;
  EXPECT_EQ(a, b);
  b.device_id = "x";
  EXPECT_NE(a, b);
  b = a;
  b.sync = SyncMode::none;
  EXPECT_NE(a, b);

  VirtiofsShare s1{"tag", SharedDirectory{"/d", false}};
  VirtiofsShare s2{"tag", SharedDirectory{"/d", true}};
  EXPECT_NE(s1, s2);
  VirtiofsShare s3{"tag", std::map<std::string, SharedDirectory>{{"d", SharedDirectory{"/d", false}}}};
  EXPECT_NE(s1, s3);
}

}  // namespace
