// The SDK guard's decisions: an API newer than the SDK vmm was built with is `unsupported`, with
// the SDK named, from make_plan() (the .mm's compile-time #else returns the same sdk_too_old()).
#include <gtest/gtest.h>

#include <string>

#include "test_support.hpp"
#include "vz/plan.hpp"
#include "vz/requirements.hpp"

namespace vmm::vz {
namespace {

using test::mac;
using test::Scratch;

HostFacts built_with_sdk(HostFacts host, MacosVersion sdk) {
  host.sdk = sdk;
  return host;
}

TEST(VzSdk, DecodesMaxAllowed) {
  EXPECT_EQ(sdk_version_from_max_allowed(140200), (MacosVersion{14, 2}));
  EXPECT_EQ(sdk_version_from_max_allowed(140000), (MacosVersion{14, 0}));
  EXPECT_EQ(sdk_version_from_max_allowed(150500), (MacosVersion{15, 5}));
  EXPECT_EQ(sdk_version_from_max_allowed(260000), (MacosVersion{26, 0}));
  EXPECT_EQ(sdk_version_from_max_allowed(260100), (MacosVersion{26, 1}));
  EXPECT_EQ(sdk_version_from_max_allowed(101500), (MacosVersion{10, 15}));
  EXPECT_EQ(sdk_version_from_max_allowed(1090), (MacosVersion{10, 9}));
}

TEST(VzRequirements, NeedsMacosIsTheOneWordingWithAndWithoutTheHostVersion) {
  const Error bare = needs_macos("NVMe disks", macos_for_nvme);
  EXPECT_EQ(bare.code(), Errc::unsupported);
  EXPECT_EQ(bare.message(), "NVMe disks: needs macOS 14 or later");
  const Error known = needs_macos("nested virtualization", macos_for_nested, MacosVersion{14, 6});
  EXPECT_EQ(known.message(),
            "nested virtualization: needs macOS 15 or later (this host runs macOS 14.6)");
  HostFacts host;
  host.macos = MacosVersion{14, 6};
  const auto required = require_macos(host, macos_for_nested, "nested virtualization");
  ASSERT_TRUE(required);
  EXPECT_EQ(required->message(), known.message());
  EXPECT_EQ(needs_macos("x", MacosVersion{12, 3}).message(), "x: needs macOS 12.3 or later");
}

TEST(VzRequirements, SaveRestoreUnsupportedNamesTheHostWhenKnown) {
  EXPECT_EQ(save_restore_unsupported().message(),
            "save/restore needs macOS 14 or later on an Apple silicon (arm64) Mac");
  HostFacts host;
  host.macos = MacosVersion{13, 5};
  host.arch = HostArch::x86_64;
  const Error error = save_restore_unsupported(host);
  EXPECT_EQ(error.code(), Errc::unsupported);
  EXPECT_EQ(error.message(),
            "save/restore needs macOS 14 or later on an Apple silicon (arm64) Mac; this host "
            "runs macOS 13.5 on x86_64");
}

TEST(VzSdk, TooOldMessageNamesFeatureReleaseAndSdk) {
  const Error error = sdk_too_old("vmnet networks need", MacosVersion{26, 0}, MacosVersion{14, 2});
  EXPECT_EQ(error.code(), Errc::unsupported);
  EXPECT_EQ(error.message().rfind(
                "vmnet networks need macOS 26 and a macOS 26 SDK; this build used SDK 14.2", 0),
            0u)
      << error.message();
}

TEST(VzSdk, VmnetOnMacos26BuiltWithSdk14IsUnsupportedNamingTheSdk) {
  Scratch scratch;
  const auto config = test::built(scratch.linux_builder().network(VmnetNetwork{}));
  auto plan = make_plan(config, built_with_sdk(mac(26), {14, 2}), PlanOptions{});
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code(), Errc::unsupported);
  EXPECT_NE(plan.error().message().find(
                "network 0: vmnet networks need macOS 26 and a macOS 26 SDK; this build used SDK "
                "14.2"),
            std::string::npos)
      << plan.error().message();
  // An SDK 15 build is no better; the macOS 26 SDK is what it takes.
  EXPECT_FALSE(make_plan(config, built_with_sdk(mac(26), {15, 5}), PlanOptions{}));
  EXPECT_TRUE(make_plan(config, built_with_sdk(mac(26), {26, 0}), PlanOptions{}));
}

TEST(VzSdk, OldHostIsReportedBeforeTheSdk) {
  // On macOS 15 the host is the first thing to change, whatever the SDK.
  Scratch scratch;
  const auto config = test::built(scratch.linux_builder().network(VmnetNetwork{}));
  auto plan = make_plan(config, built_with_sdk(mac(15, 5), {14, 2}), PlanOptions{});
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().message().find("this host runs macOS 15.5"), std::string::npos)
      << plan.error().message();
}

TEST(VzSdk, NestedVirtualizationNeedsTheMacos15SdkBeforeTheHardwareIsAsked) {
  Scratch scratch;
  const auto config = test::built(scratch.linux_builder().nested_virtualization());
  // A macOS 14 SDK build cannot ask the hardware (nested_virtualization_supported stays false):
  // the message must name the SDK, not blame the Mac.
  auto plan = make_plan(config, built_with_sdk(mac(15), {14, 5}), PlanOptions{});
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code(), Errc::unsupported);
  EXPECT_NE(plan.error().message().find(
                "nested virtualization needs macOS 15 and a macOS 15 SDK; this build used SDK 14.5"),
            std::string::npos)
      << plan.error().message();
  HostFacts capable = built_with_sdk(mac(15), {15, 0});
  capable.nested_virtualization_supported = true;
  EXPECT_TRUE(make_plan(config, capable, PlanOptions{}));
}

TEST(VzSdk, FeaturesOfTheMacos14SdkNeedNoNewerSdk) {
  // NVMe (a macOS 14 API) plans with the oldest supported SDK.
  Scratch scratch;
  const auto config = test::built(scratch.linux_builder().disk(
      DiskImage{scratch.file("disk.img"), DiskFormat::raw, false, CachingMode::cached,
                SyncMode::fsync, BlockBus::nvme, std::nullopt, {}}));
  EXPECT_TRUE(make_plan(config, built_with_sdk(mac(14), {14, 0}), PlanOptions{}));
}

}  // namespace
}  // namespace vmm::vz
