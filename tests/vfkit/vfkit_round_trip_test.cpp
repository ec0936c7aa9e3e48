// config -> vfkit arguments -> config: the arguments read back to an equal config and equal
// settings, for generated configs and for every config the JSON reader accepts from the
// checked-in JSON inputs; what vfkit cannot express is an error saying so, never a lossy list.
#include <nlohmann/json.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>

#include "vfkit_test_support.hpp"

namespace vmm_test {
namespace {

using namespace vmm::vfkit;

// The config as JSON without the generated machine identifier, which vfkit has no flag for.
nlohmann::json comparable(const vmm::VmConfig& config) {
  auto document = nlohmann::json::parse(config.to_json());
  if (config.machine_identifier_generated()) document.erase("machine_identifier");
  return document;
}

// The property: either an invalid_config error that says what cannot be expressed, or
// arguments that parse back to the same machine and settings.
testing::AssertionResult RoundTrips(const vmm::VmConfig& config, const Settings& settings, bool* written = nullptr) {
  auto args = to_command_line(config, settings);
  if (!args) {
    if (args.error().code() == vmm::Errc::invalid_config &&
        args.error().message().find("vfkit arguments cannot express") != std::string::npos)
      return testing::AssertionSuccess();
    return testing::AssertionFailure() << "writer: " << args.error().to_string();
  }
  if (written) *written = true;
  auto back = parse_command_line(*args);
  std::string joined;
  for (const auto& a : *args) joined += "[" + a + "] ";
  if (!back) return testing::AssertionFailure() << back.error().to_string() << "\n  args: " << joined;
  if (!back->config) return testing::AssertionFailure() << "no config from " << joined;
  if (comparable(*back->config) != comparable(config))
    return testing::AssertionFailure() << "config differs\n  args: " << joined << "\n  was: "
                                       << comparable(config).dump() << "\n  now: " << comparable(*back->config).dump();
  if (!(back->settings == settings)) return testing::AssertionFailure() << "settings differ; args: " << joined;
  // Canonical: writing the read-back config gives the same list.
  auto again = to_command_line(*back->config, back->settings);
  if (!again || *again != *args) return testing::AssertionFailure() << "not canonical: " << joined;
  return testing::AssertionSuccess();
}

class VfkitRoundTrip : public testing::Test {
 protected:
  vmm::support::TempDir tmp;
};

TEST_F(VfkitRoundTrip, ATypicalPodmanMachine) {
  auto kernel = tmp.file("vmlinuz"), initrd = tmp.file("initrd"), disk = tmp.file("disk.img");
  auto config = vmm::VmConfig::builder()
                    .cpus(4)
                    .memory(vmm::Size::gib(2))
                    .linux_boot(kernel, initrd, "console=hvc0 root=/dev/vda")
                    .disk(disk)
                    .nat_network()
                    .vsock()
                    .entropy()
                    .build();
  ASSERT_TRUE(Ok(config));
  Settings settings;
  settings.rest = *parse_restful_uri("unix:///tmp/vfkit-rest.sock");
  settings.timesync_vsock_port = 1234;
  settings.vsock_exposures.push_back({1025, "/tmp/ready.sock", true});
  settings.pidfile = "/tmp/vfkit.pid";
  settings.log_level = LogLevel::info;
  bool written = false;
  EXPECT_TRUE(RoundTrips(*config, settings, &written));
  EXPECT_TRUE(written);
  auto args = to_command_line(*config, settings);
  ASSERT_TRUE(Ok(args));
  const std::vector<std::string> head{"--cpus", "4", "--memory", "2048", "--kernel", kernel.string()};
  EXPECT_TRUE(std::equal(head.begin(), head.end(), args->begin()));
}

TEST_F(VfkitRoundTrip, WhatVfkitCannotExpressIsNamed) {
  auto kernel = tmp.file("vmlinuz");
  auto bridged = vmm::VmConfig::builder().linux_boot(kernel).network(vmm::BridgedNetwork{"en0"}).build();
  ASSERT_TRUE(Ok(bridged));
  EXPECT_TRUE(FailsWith(to_command_line(*bridged), vmm::Errc::invalid_config, {"bridged network"}));
  auto comma = tmp.file("a,b.img");
  auto disk = vmm::VmConfig::builder().linux_boot(kernel).disk(comma).build();
  ASSERT_TRUE(Ok(disk));
  EXPECT_TRUE(FailsWith(to_command_line(*disk), vmm::Errc::invalid_config, {"a,b.img", "comma"}));
  vmm::DiskImage qcow_disk;
  qcow_disk.path = tmp.file("d.qcow2");
  qcow_disk.format = vmm::DiskFormat::qcow2;
  auto qcow = vmm::VmConfig::builder().linux_boot(kernel).disk(qcow_disk).build();
  ASSERT_TRUE(Ok(qcow));
  EXPECT_TRUE(FailsWith(to_command_line(*qcow), vmm::Errc::invalid_config, {"qcow2 disk", "d.qcow2"}));
}

TEST_F(VfkitRoundTrip, EveryCheckedInJsonConfigRoundTripsOrIsRefused) {
  const std::filesystem::path corpus = std::filesystem::path(VMM_SOURCE_DIR) / "tests/fuzz/corpus/fuzz_config_json";
  int accepted = 0;
  for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    auto config = vmm::VmConfig::from_json(text.str());
    if (!config) continue;
    ++accepted;
    EXPECT_TRUE(RoundTrips(*config, {})) << entry.path();
  }
  EXPECT_GT(accepted, 2);
}

// Random machines over everything vfkit can say and some of what it cannot: awkward paths
// (commas, quotes, spaces), every bus, network kind, serial form, and the settings.
TEST_F(VfkitRoundTrip, GeneratedConfigsRoundTrip) {
  std::mt19937 rng(20261202);
  int unique = 0;
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const std::vector<std::string> names{"plain", "with space", "a,b", "q\"uote", "-dash", "x=y", "\"both\""};
  auto name = [&] { return names[static_cast<std::size_t>(pick(static_cast<int>(names.size())))] + std::to_string(++unique); };
  int written = 0;
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM, 0, pair), 0);
  for (int round = 0; round < 400; ++round) {
    auto b = vmm::VmConfig::builder();
    b.cpus(1 + static_cast<std::uint32_t>(pick(8))).memory(vmm::Size::mib(128 + static_cast<std::uint64_t>(pick(4096))));
    if (pick(3) == 0) {
      vmm::EfiBoot efi;
      efi.variable_store = tmp.path() / name();
      efi.create_if_missing = true;
      b.efi_boot(efi);
    } else {
      std::optional<std::filesystem::path> initrd;
      if (pick(2)) initrd = tmp.file(name());
      std::string cmdline = pick(2) ? "console=hvc0" : (pick(2) ? "" : "a=\"b c\",d");
      b.linux_boot(tmp.file(name()), initrd, cmdline);
    }
    for (int i = pick(3); i > 0; --i) {
      vmm::DiskImage disk;
      disk.path = tmp.file(name());
      disk.read_only = pick(2);
      disk.bus = static_cast<vmm::BlockBus>(pick(3));
      if (disk.bus == vmm::BlockBus::virtio && pick(2)) disk.device_id = "id" + std::to_string(pick(100));
      if (pick(8) == 0) disk.caching = vmm::CachingMode::uncached;
      b.disk(disk);
    }
    for (int i = pick(3); i > 0; --i) {
      switch (pick(4)) {
        case 0: b.nat_network(); break;
        case 1: b.network(vmm::FileHandleNetwork{pair[0], pick(5) ? 1500u : 9000u}); break;
        case 2: b.network(vmm::UnixDatagramNetwork{tmp.path() / (name() + ".sock"), 1500}); break;
        default: b.network(vmm::BridgedNetwork{"en0"}); break;
      }
    }
    if (pick(2)) b.share("tag" + std::to_string(pick(100)), tmp.dir(name()), pick(6) == 0);
    bool vsock = pick(2);
    if (vsock) b.vsock();
    if (pick(2)) b.entropy();
    if (pick(3) == 0) b.balloon();
    if (pick(4) == 0) b.serial(vmm::SerialToFile{tmp.path() / name(), pick(4) == 0});
    else if (pick(4) == 0) b.serial(vmm::SerialToFd{STDOUT_FILENO});
    auto config = b.build();
    if (!config) continue;  // e.g. a path the builder refuses
    Settings s;
    if (pick(2)) s.rest = pick(2) ? *parse_restful_uri("tcp://127.0.0.1:" + std::to_string(1 + pick(65535)))
                                  : *parse_restful_uri("unix:///tmp/" + name());
    if (pick(3) == 0) s.pidfile = tmp.path() / name();
    if (pick(3) == 0) s.log_level = static_cast<LogLevel>(pick(3));
    if (vsock && pick(3) == 0) s.timesync_vsock_port = 1 + static_cast<std::uint32_t>(pick(5000));
    if (vsock && pick(4) == 0) s.ignition = tmp.path() / name();
    if (pick(4) == 0) s.cloud_init = {tmp.path() / name(), tmp.path() / name()};
    if (vsock && pick(2)) s.vsock_exposures.push_back({1 + static_cast<std::uint32_t>(pick(9000)), tmp.path() / name(), pick(2) == 0});
    bool ok = false;
    EXPECT_TRUE(RoundTrips(*config, s, &ok)) << "round " << round;
    written += ok;
  }
  ::close(pair[0]);
  ::close(pair[1]);
  EXPECT_GT(written, 40);  // the generator reaches the expressible space, not only refusals
}

}  // namespace
}  // namespace vmm_test
