// make_plan(): each feature the host cannot do is `unsupported`, naming the feature and the
// macOS version it needs; at that version the same config plans.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <array>

#include "test_support.hpp"
#include "vmm/file_descriptor.hpp"
#include "vz/plan.hpp"

namespace vmm::vz {
namespace {

using test::mac;
using test::Scratch;

void expect_unsupported(const VmConfig& config, const HostFacts& host,
                        const std::vector<std::string>& words) {
  auto plan = make_plan(config, host, PlanOptions{});
  ASSERT_FALSE(plan) << "planned on macOS " << host.macos.to_string();
  EXPECT_EQ(plan.error().code(), Errc::unsupported) << plan.error().to_string();
  for (const auto& word : words) {
    EXPECT_NE(plan.error().message().find(word), std::string::npos)
        << "\"" << word << "\" missing from: " << plan.error().message();
  }
}

void expect_plans(const VmConfig& config, const HostFacts& host) {
  auto plan = make_plan(config, host, PlanOptions{});
  EXPECT_TRUE(plan) << (plan ? "" : plan.error().to_string());
}

VmConfig with_disk(const Scratch& scratch, DiskFormat format, BlockBus bus) {
  return test::built(scratch.linux_builder().disk(
      DiskImage{scratch.file("disk.img"), format, false, CachingMode::cached, SyncMode::fsync,
                bus, std::nullopt, {}}));
}

TEST(VzPlanUnsupported, NvmeNeedsMacos14) {
  Scratch scratch;
  const auto config = with_disk(scratch, DiskFormat::raw, BlockBus::nvme);
  expect_unsupported(config, mac(13, 6), {"NVMe", "macOS 14", "disk.img", "13.6"});
  expect_plans(config, mac(14));
}

TEST(VzPlanUnsupported, UsbMassStorageNeedsMacos13) {
  Scratch scratch;
  const auto config = with_disk(scratch, DiskFormat::raw, BlockBus::usb);
  expect_unsupported(config, mac(12, 6), {"USB mass storage", "macOS 13"});
  expect_plans(config, mac(13));
}

TEST(VzPlanUnsupported, AsifNeedsMacos26) {
  Scratch scratch;
  const auto config = with_disk(scratch, DiskFormat::asif, BlockBus::virtio);
  expect_unsupported(config, mac(15, 5), {"ASIF", "macOS 26"});
  expect_plans(config, mac(26));
}

TEST(VzPlanUnsupported, Qcow2IsNeverSupported) {
  Scratch scratch;
  const auto config = with_disk(scratch, DiskFormat::qcow2, BlockBus::virtio);
  expect_unsupported(config, mac(26), {"qcow2", "raw"});
}

TEST(VzPlanUnsupported, DeviceIdOnlyOnVirtio) {
  Scratch scratch;
  const auto config = test::built(scratch.linux_builder().disk(
      DiskImage{scratch.file("disk.img"), DiskFormat::raw, false, CachingMode::cached,
                SyncMode::fsync, BlockBus::nvme, std::string("serial1"), {}}));
  expect_unsupported(config, mac(15), {"device_id", "nvme"});
}

// Virtualization.framework has no I/O throttling: a limited disk is refused on every macOS, and
// the same disk without limits plans.
TEST(VzPlanUnsupported, DiskLimitsAreNeverSupported) {
  Scratch scratch;
  DiskImage disk;
  disk.path = scratch.file("disk.img");
  disk.limits.write_bytes.per_second = 1024 * 1024;
  expect_unsupported(test::built(scratch.linux_builder().disk(disk)), mac(26),
                     {"limits", "disk.img", "throttling"});
  disk.limits = DiskLimits{};
  expect_plans(test::built(scratch.linux_builder().disk(disk)), mac(26));
}

TEST(VzPlanUnsupported, VmnetNeedsMacos26) {
  Scratch scratch;
  const auto config = test::built(scratch.linux_builder().network(VmnetNetwork{}));
  expect_unsupported(config, mac(15), {"vmnet", "macOS 26", "network 0"});
  expect_plans(config, mac(26));
}

TEST(VzPlanUnsupported, TapIsALinuxFeature) {
  Scratch scratch;
  const auto config = test::built(scratch.linux_builder().network(TapNetwork{"tap0"}));
  expect_unsupported(config, mac(26), {"tap", "network 0", "bridged or file_handle"});
}

TEST(VzPlanUnsupported, FileHandleMtuNeedsMacos13) {
  Scratch scratch;
  std::array<int, 2> fds{};
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM, 0, fds.data()), 0);
  const FileDescriptor ours(fds[0]);
  const FileDescriptor peer(fds[1]);
  const auto jumbo = test::built(scratch.linux_builder().network(FileHandleNetwork{ours.get(), 9000}));
  expect_unsupported(jumbo, mac(12, 6), {"MTU", "macOS 13"});
  expect_plans(jumbo, mac(13));
  // The default MTU needs nothing of its own: only the backend's floor applies.
  const auto plain = test::built(scratch.linux_builder().network(FileHandleNetwork{ours.get(), 1500}));
  auto plan = make_plan(plain, mac(12, 6), PlanOptions{});
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().message().find("MTU"), std::string::npos) << plan.error().message();
}

TEST(VzPlanUnsupported, EfiNeedsMacos13) {
  Scratch scratch;
  const auto config = test::built(VmConfig::builder().efi_boot(EfiBoot{scratch.dir() / "vars", true}));
  expect_unsupported(config, mac(12, 6), {"EFI", "macOS 13"});
  expect_plans(config, mac(13));
}

TEST(VzPlanUnsupported, BackendNeedsMacos13) {
  Scratch scratch;
  const auto config = test::built(scratch.linux_builder());
  expect_unsupported(config, mac(12, 7), {"Virtualization.framework", "macOS 13", "12.7"});
  expect_plans(config, mac(13));
}

TEST(VzPlanUnsupported, NestedVirtualizationNeedsMacos15AndHardware) {
  Scratch scratch;
  const auto config = test::built(scratch.linux_builder().nested_virtualization());
  auto capable = mac(14, 5);
  capable.nested_virtualization_supported = true;
  expect_unsupported(config, capable, {"nested virtualization", "macOS 15"});
  expect_unsupported(config, mac(15), {"nested virtualization", "hardware"});
  capable.macos = MacosVersion{15, 0};
  auto plan = make_plan(config, capable, PlanOptions{});
  ASSERT_TRUE(plan);
  EXPECT_TRUE(plan->platform.nested_virtualization);
}

TEST(VzPlanUnsupported, RosettaNeedsArm64Macos13AndInstalled) {
  Scratch scratch;
  const auto config = test::built(scratch.linux_builder().rosetta("rosetta"));
  expect_unsupported(config, mac(14, 0, HostArch::x86_64), {"Rosetta", "arm64", "x86_64"});
  expect_unsupported(config, mac(12, 6), {"Rosetta", "macOS 13"});
  auto missing = mac(14);
  missing.rosetta = RosettaAvailability::not_installed;
  expect_unsupported(config, missing, {"Rosetta", "softwareupdate --install-rosetta"});
  auto unsupported = mac(14);
  unsupported.rosetta = RosettaAvailability::not_supported;
  expect_unsupported(config, unsupported, {"Rosetta", "not supported"});
  expect_plans(config, mac(13));
}

TEST(VzPlanLimits, CpusOutsideTheHostsRangeNameTheRange) {
  Scratch scratch;
  auto plan = make_plan(test::built(scratch.linux_builder().cpus(9)), mac(14), PlanOptions{});
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code(), Errc::invalid_config);
  EXPECT_NE(plan.error().message().find("cpus: 9"), std::string::npos);
  EXPECT_NE(plan.error().message().find("1 to 8"), std::string::npos);
  auto few = mac(14);
  few.min_cpus = 2;
  EXPECT_FALSE(make_plan(test::built(scratch.linux_builder().cpus(1)), few, PlanOptions{}));
  EXPECT_TRUE(make_plan(test::built(scratch.linux_builder().cpus(8)), mac(14), PlanOptions{}));
}

TEST(VzPlanLimits, MemoryOutsideTheHostsRangeNamesTheRange) {
  Scratch scratch;
  auto plan = make_plan(test::built(scratch.linux_builder().memory(Size::gib(17))), mac(14),
                        PlanOptions{});
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code(), Errc::invalid_config);
  EXPECT_NE(plan.error().message().find("17GiB"), std::string::npos);
  EXPECT_NE(plan.error().message().find("128MiB to 16GiB"), std::string::npos);
  auto big_floor = mac(14);
  big_floor.min_memory = Size::mib(512);
  EXPECT_FALSE(
      make_plan(test::built(scratch.linux_builder().memory(Size::mib(256))), big_floor, PlanOptions{}));
  EXPECT_TRUE(
      make_plan(test::built(scratch.linux_builder().memory(Size::gib(16))), mac(14), PlanOptions{}));
}

}  // namespace
}  // namespace vmm::vz
