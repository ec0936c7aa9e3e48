// vfkit's top-level flags: pflag forms, defaults, flag groups, settings, numbers, extras.
#include <unistd.h>

#include "vfkit_test_support.hpp"

namespace vmm_test {
namespace {

using vmm::Errc;
using vmm::Size;
using namespace vmm::vfkit;

class VfkitFlags : public testing::Test {
 protected:
  vmm::support::TempDir tmp;
  std::string kernel = tmp.file("vmlinuz").string();
  std::string initrd = tmp.file("initrd").string();
  std::vector<std::string> boot() { return {"--bootloader", "linux,kernel=" + kernel}; }
  std::vector<std::string> with_boot(std::vector<std::string> more) {
    auto args = boot();
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }
};

TEST_F(VfkitFlags, DefaultsAreOneCpuAnd512MiB) {
  auto parsed = parse(boot());
  ASSERT_TRUE(Ok(parsed));
  ASSERT_TRUE(parsed->config);
  EXPECT_EQ(parsed->config->cpus(), 1u);
  EXPECT_EQ(parsed->config->memory(), Size::mib(512));
  EXPECT_EQ(parsed->settings, Settings{});
  EXPECT_FALSE(parsed->config->vsock());
}

TEST_F(VfkitFlags, LongShortAndEqualsFormsAllSetTheValue) {
  for (const auto& form : std::vector<std::vector<std::string>>{
           {"--cpus", "3", "--memory", "1024"}, {"--cpus=3", "--memory=1024"},
           {"-c", "3", "-m", "1024"}, {"-c3", "-m1024"}, {"-c=3", "-m=1024"}}) {
    auto parsed = parse(with_boot(form));
    ASSERT_TRUE(Ok(parsed)) << form[0];
    EXPECT_EQ(parsed->config->cpus(), 3u) << form[0];
    EXPECT_EQ(parsed->config->memory(), Size::mib(1024)) << form[0];
  }
}

TEST_F(VfkitFlags, TheLastOfARepeatedFlagWins) {
  auto parsed = parse(with_boot({"--cpus", "2", "--cpus", "4"}));
  ASSERT_TRUE(Ok(parsed));
  EXPECT_EQ(parsed->config->cpus(), 4u);
}

TEST_F(VfkitFlags, NumbersAreCheckedAndNamed) {
  EXPECT_TRUE(FailsWith(parse(with_boot({"--cpus", "abc"})), Errc::invalid_config, {"--cpus", "\"abc\""}));
  EXPECT_TRUE(FailsWith(parse(with_boot({"--cpus", "-1"})), Errc::invalid_config, {"--cpus", "\"-1\""}));
  EXPECT_TRUE(FailsWith(parse(with_boot({"--cpus", "4294967296"})), Errc::invalid_config, {"--cpus"}));
  EXPECT_TRUE(FailsWith(parse(with_boot({"--memory", "1G"})), Errc::invalid_config, {"--memory", "\"1G\""}));
  EXPECT_TRUE(FailsWith(parse(with_boot({"--memory", "99999999999999999999"})), Errc::invalid_config, {"--memory"}));
  // In range for the flag, refused by vmm's validation naming the field.
  EXPECT_TRUE(FailsWith(parse(with_boot({"--cpus", "0"})), Errc::invalid_config, {"cpus"}));
  EXPECT_TRUE(FailsWith(parse(with_boot({"--memory", "64"})), Errc::invalid_config, {"memory"}));
}

TEST_F(VfkitFlags, UnknownFlagsMissingValuesAndStrayArgumentsAreErrors) {
  EXPECT_TRUE(FailsWith(parse(with_boot({"--frobnicate"})), Errc::invalid_config, {"unknown flag --frobnicate"}));
  EXPECT_TRUE(FailsWith(parse(with_boot({"-x"})), Errc::invalid_config, {"unknown shorthand flag 'x'"}));
  EXPECT_TRUE(FailsWith(parse(with_boot({"--cpus"})), Errc::invalid_config, {"--cpus needs a value"}));
  EXPECT_TRUE(FailsWith(parse(with_boot({"-c"})), Errc::invalid_config, {"--cpus", "needs a value"}));
  EXPECT_TRUE(FailsWith(parse(with_boot({"stray"})), Errc::invalid_config, {"unexpected argument stray"}));
  EXPECT_TRUE(FailsWith(parse(with_boot({"--", "x"})), Errc::invalid_config, {"unexpected argument x"}));
}

TEST_F(VfkitFlags, BooleansTakeAnOptionalValue) {
  auto on = parse(with_boot({"--nested"}));
  ASSERT_TRUE(Ok(on));
  EXPECT_TRUE(on->config->nested_virtualization());
  auto off = parse(with_boot({"--nested=false"}));
  ASSERT_TRUE(Ok(off));
  EXPECT_FALSE(off->config->nested_virtualization());
  auto grouped = parse(with_boot({"-nc", "2"}));
  ASSERT_TRUE(Ok(grouped));
  EXPECT_TRUE(grouped->config->nested_virtualization());
  EXPECT_EQ(grouped->config->cpus(), 2u);
  EXPECT_TRUE(FailsWith(parse(with_boot({"--nested=maybe"})), Errc::invalid_config, {"--nested", "maybe"}));
}

TEST_F(VfkitFlags, GuiIsUnsupported) {
  EXPECT_TRUE(FailsWith(parse(with_boot({"--gui"})), Errc::unsupported, {"--gui"}));
  EXPECT_TRUE(Ok(parse(with_boot({"--gui=false"}))));
}

TEST_F(VfkitFlags, HelpAndVersionNeedNothingElse) {
  auto help = parse({"--help"});
  ASSERT_TRUE(Ok(help));
  EXPECT_TRUE(help->help);
  auto version = parse({"-v"});
  ASSERT_TRUE(Ok(version));
  EXPECT_TRUE(version->version);
}

TEST_F(VfkitFlags, LegacyKernelFlagsGoTogetherAndExcludeTheBootloader) {
  auto parsed = parse({"--kernel", kernel, "--initrd", initrd, "--kernel-cmdline", "console=hvc0"});
  ASSERT_TRUE(Ok(parsed));
  const auto& boot = std::get<vmm::LinuxBoot>(parsed->config->boot());
  EXPECT_EQ(boot.kernel, kernel);
  EXPECT_EQ(boot.initrd, std::filesystem::path(initrd));
  EXPECT_EQ(boot.command_line, "console=hvc0");
  EXPECT_TRUE(FailsWith(parse({"--kernel", kernel, "--initrd", initrd}), Errc::invalid_config,
                        {"--kernel --initrd", "without --kernel-cmdline"}));
  EXPECT_TRUE(FailsWith(parse({"-k", kernel, "-b", "linux,kernel=" + kernel}), Errc::invalid_config,
                        {"--bootloader cannot be used with --kernel"}));
  EXPECT_TRUE(FailsWith(parse({"--cpus", "2"}), Errc::invalid_config, {"no bootloader"}));
}

TEST_F(VfkitFlags, NoMachineFlagsMeansNoConfig) {
  auto parsed = parse({"--restful-uri", "tcp://localhost:8081", "--pidfile", "/tmp/p"});
  ASSERT_TRUE(Ok(parsed));
  EXPECT_FALSE(parsed->config);
  EXPECT_EQ(parsed->settings.rest.scheme, RestEndpoint::Scheme::tcp);
  EXPECT_EQ(parsed->settings.pidfile, std::filesystem::path("/tmp/p"));
}

TEST_F(VfkitFlags, RestfulUriForms) {
  auto tcp = parse_restful_uri("tcp://localhost:8081");
  ASSERT_TRUE(Ok(tcp));
  EXPECT_EQ(tcp->host, "localhost");
  EXPECT_EQ(tcp->port, 8081);
  auto http = parse_restful_uri("http://127.0.0.1:80");
  ASSERT_TRUE(Ok(http));
  EXPECT_EQ(http->scheme, RestEndpoint::Scheme::tcp);
  auto v6 = parse_restful_uri("tcp://[::1]:9");
  ASSERT_TRUE(Ok(v6));
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(to_string(*v6), "tcp://[::1]:9");
  auto unix_uri = parse_restful_uri("unix:///tmp/vfkit.sock");
  ASSERT_TRUE(Ok(unix_uri));
  EXPECT_EQ(unix_uri->path, "/tmp/vfkit.sock");
  EXPECT_EQ(to_string(*unix_uri), "unix:///tmp/vfkit.sock");
  auto none = parse_restful_uri("none://");
  ASSERT_TRUE(Ok(none));
  EXPECT_EQ(none->scheme, RestEndpoint::Scheme::none);
  for (const auto* uri : {"tcp://localhost", "tcp://:80", "tcp://localhost:80/x", "tcp://h:99999",
                          "tcp://h:port", "unix://", "unix://host/x", "ftp://x:1", "localhost:80"})
    EXPECT_TRUE(FailsWith(parse_restful_uri(uri), Errc::invalid_config, {"--restful-uri", uri})) << uri;
  EXPECT_TRUE(FailsWith(parse_restful_uri("unix:///" + std::string(200, 'a')), Errc::invalid_config,
                        {"longer than 103"}));
}

TEST_F(VfkitFlags, LogLevelPidfileTimesyncIgnitionCloudInit) {
  auto parsed = parse(with_boot({"--log-level", "debug", "--pidfile", "/run/vm.pid", "--timesync",
                                 "vsockPort=1234", "--ignition", "/tmp/ign.json", "--cloud-init",
                                 "/tmp/user-data,\"/tmp/a,b/meta-data\""}));
  ASSERT_TRUE(Ok(parsed));
  EXPECT_EQ(parsed->settings.log_level, LogLevel::debug);
  EXPECT_EQ(parsed->settings.pidfile, std::filesystem::path("/run/vm.pid"));
  EXPECT_EQ(parsed->settings.timesync_vsock_port, 1234u);
  EXPECT_EQ(parsed->settings.ignition, std::filesystem::path("/tmp/ign.json"));
  ASSERT_EQ(parsed->settings.cloud_init.size(), 2u);
  EXPECT_EQ(parsed->settings.cloud_init[1], "/tmp/a,b/meta-data");
  // vfkit serves timesync and ignition over the machine's vsock device.
  EXPECT_TRUE(parsed->config->vsock());

  EXPECT_TRUE(FailsWith(parse(with_boot({"--log-level", "trace"})), Errc::invalid_config, {"--log-level", "trace"}));
  EXPECT_TRUE(FailsWith(parse(with_boot({"--timesync", "port=1"})), Errc::invalid_config, {"--timesync", "port"}));
  EXPECT_TRUE(FailsWith(parse(with_boot({"--timesync", "vsockPort=x"})), Errc::invalid_config, {"vsockPort", "\"x\""}));
  EXPECT_TRUE(FailsWith(parse(with_boot({"--timesync", "vsockPort=0"})), Errc::invalid_config, {"--timesync"}));
  EXPECT_TRUE(FailsWith(parse(with_boot({"--ignition", "a,b"})), Errc::invalid_config, {"--ignition", "a,b"}));
  EXPECT_TRUE(FailsWith(parse(with_boot({"--cloud-init", "\"a"})), Errc::invalid_config, {"--cloud-init", "mismatched"}));
}

TEST_F(VfkitFlags, ExtraFlagsAreCollectedInOrder) {
  const ExtraFlag extras[] = {{"--config", true}, {"--dry-run", false}};
  auto parsed = parse({"--config", "a.json", "--dry-run", "--config=b.json"}, extras);
  ASSERT_TRUE(Ok(parsed));
  ASSERT_EQ(parsed->extras.size(), 3u);
  EXPECT_EQ(parsed->extras[0], (std::pair<std::string, std::string>{"--config", "a.json"}));
  EXPECT_EQ(parsed->extras[1].first, "--dry-run");
  EXPECT_EQ(parsed->extras[2].second, "b.json");
  EXPECT_FALSE(parsed->config);
  EXPECT_TRUE(FailsWith(parse({"--dry-run=1"}, extras), Errc::invalid_config, {"--dry-run takes no value"}));
  EXPECT_TRUE(FailsWith(parse({"--config"}, extras), Errc::invalid_config, {"--config needs a value"}));
}

TEST_F(VfkitFlags, StateNamesAreVfkits) {
  EXPECT_EQ(state_name(vmm::VmState::running), "VirtualMachineStateRunning");
  EXPECT_EQ(state_name(vmm::VmState::paused), "VirtualMachineStatePaused");
  EXPECT_EQ(state_name(vmm::VmState::stopped), "VirtualMachineStateStopped");
  EXPECT_EQ(state_name(vmm::VmState::error), "VirtualMachineStateError");
  EXPECT_EQ(state_name(vmm::VmState::saving), "VirtualMachineStateSaving");
}

}  // namespace
}  // namespace vmm_test
