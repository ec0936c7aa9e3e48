// Host probing decisions over fake /proc/cpuinfo text and fake PATHs.
#include "qemu/host.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "test_support.hpp"

namespace vmm::qemu {
namespace {

constexpr std::string_view intel_with_vmx =
    "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu MHz\t\t: 2596.122\n"
    "flags\t\t: fpu vme de pse tsc msr vmx sse sse2\n\nprocessor\t: 1\n";
constexpr std::string_view amd_with_svm =
    "processor\t: 0\ncpu MHz\t\t: 3000\nflags\t\t: fpu svm lm\n";
// A paravirtual /dev/kvm host: no vmx/svm, and flags that merely contain the letters.
constexpr std::string_view no_virtualization =
    "processor\t: 0\ncpu MHz\t\t: 2100.5\nflags\t\t: fpu vmxnotreally hypervisor svmish\n";

TEST(Cpuinfo, DetectsVmxAndSvmAsWholeWords) {
  EXPECT_TRUE(cpuinfo_has_hardware_virtualization(intel_with_vmx));
  EXPECT_TRUE(cpuinfo_has_hardware_virtualization(amd_with_svm));
  EXPECT_FALSE(cpuinfo_has_hardware_virtualization(no_virtualization));
  EXPECT_FALSE(cpuinfo_has_hardware_virtualization(""));
}

TEST(Cpuinfo, TscKhzFromCpuMhz) {
  EXPECT_EQ(cpuinfo_tsc_khz(intel_with_vmx), 2596122u);
  EXPECT_EQ(cpuinfo_tsc_khz(amd_with_svm), 3000000u);
  EXPECT_EQ(cpuinfo_tsc_khz(no_virtualization), 2100500u);
  EXPECT_EQ(cpuinfo_tsc_khz("cpu MHz : fast\n"), 0u);
  EXPECT_EQ(cpuinfo_tsc_khz("processor : 0\n"), 0u);
}

TEST(Acceleration, AutomaticNeedsBothKvmAndCpuSupport) {
  EXPECT_EQ(*resolve_acceleration(Acceleration::automatic, true, intel_with_vmx),
            Acceleration::kvm);
  EXPECT_EQ(*resolve_acceleration(Acceleration::automatic, true, no_virtualization),
            Acceleration::tcg);
  EXPECT_EQ(*resolve_acceleration(Acceleration::automatic, false, intel_with_vmx),
            Acceleration::tcg);
}

TEST(Acceleration, ExplicitChoices) {
  EXPECT_EQ(*resolve_acceleration(Acceleration::tcg, true, intel_with_vmx), Acceleration::tcg);
  EXPECT_EQ(*resolve_acceleration(Acceleration::kvm, true, no_virtualization), Acceleration::kvm);
  const auto hvf = resolve_acceleration(Acceleration::hvf, true, intel_with_vmx);
  ASSERT_FALSE(hvf.has_value());
  EXPECT_EQ(hvf.error().code(), Errc::unsupported);
  EXPECT_NE(hvf.error().message().find("hvf"), std::string::npos);
  const auto refused = resolve_acceleration(Acceleration::kvm, false, intel_with_vmx);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), Errc::unsupported);
  EXPECT_NE(refused.error().message().find("/dev/kvm"), std::string::npos);
}

TEST(FindExecutable, SearchesPathInOrderAndSkipsNonExecutables) {
  testing::ScratchDir scratch;
  const auto first = scratch.dir("a");
  const auto second = scratch.dir("b");
  const auto not_executable = scratch.file("a/qemu-system-x86_64");
  const auto executable = scratch.file("b/qemu-system-x86_64");
  ::chmod(executable.c_str(), 0755);
  const auto path = first.string() + "::" + second.string();
  const auto found = find_executable({}, "qemu-system-x86_64", path, "qemu-system-x86");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(*found, executable);
  (void)not_executable;
}

TEST(FindExecutable, MissingNamesThePackage) {
  testing::ScratchDir scratch;
  const auto missing =
      find_executable({}, "qemu-system-x86_64", scratch.path().string(), "qemu-system-x86");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), Errc::not_found);
  EXPECT_NE(missing.error().message().find("qemu-system-x86"), std::string::npos);
  const auto configured =
      find_executable(scratch.path() / "nope", "qemu-system-x86_64", "", "qemu-system-x86");
  ASSERT_FALSE(configured.has_value());
  EXPECT_EQ(configured.error().code(), Errc::not_found);
}


TEST(GuestTarget, TheHostsOwnArchitectureUnlessAnotherIsAsked) {
  QemuOptions options;
  auto same = choose_guest_target(options, HostArch::x86_64);
  ASSERT_TRUE(same.has_value());
  EXPECT_EQ(same->arch, HostArch::x86_64);
  EXPECT_FALSE(same->emulated);

  options.guest_arch = Arch::x86_64;  // naming the host's own changes nothing
  options.acceleration = Acceleration::kvm;
  auto named = choose_guest_target(options, HostArch::x86_64);
  ASSERT_TRUE(named.has_value());
  EXPECT_FALSE(named->emulated);
}

TEST(GuestTarget, AForeignGuestIsEmulatedAndRefusesHardwareAcceleration) {
  QemuOptions options;
  options.guest_arch = Arch::aarch64;
  for (auto acceleration : {Acceleration::automatic, Acceleration::tcg}) {
    options.acceleration = acceleration;
    auto target = choose_guest_target(options, HostArch::x86_64);
    ASSERT_TRUE(target.has_value()) << to_string(acceleration);
    EXPECT_EQ(target->arch, HostArch::aarch64);
    EXPECT_TRUE(target->emulated);
  }
  options.acceleration = Acceleration::kvm;
  auto refused = choose_guest_target(options, HostArch::x86_64);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), Errc::unsupported);
  EXPECT_NE(refused.error().message().find("guest_arch"), std::string::npos);
  EXPECT_NE(refused.error().message().find("aarch64"), std::string::npos);

  options.guest_arch = Arch::x86_64;  // and the other way round, on an arm64 host
  options.acceleration = Acceleration::automatic;
  auto reverse = choose_guest_target(options, HostArch::aarch64);
  ASSERT_TRUE(reverse.has_value());
  EXPECT_EQ(reverse->arch, HostArch::x86_64);
  EXPECT_TRUE(reverse->emulated);
}

}  // namespace
}  // namespace vmm::qemu
