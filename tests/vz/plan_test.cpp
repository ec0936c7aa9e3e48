// make_plan(): what the plan holds for a valid config on a capable host.
#include <gtest/gtest.h>

#include "test_support.hpp"
#include "vz/plan.hpp"

namespace vmm::vz {
namespace {

using test::mac;
using test::Scratch;

Plan plan_of(const VmConfig& config, const HostFacts& host, PlanOptions options = {}) {
  auto plan = make_plan(config, host, options);
  EXPECT_TRUE(plan.has_value()) << (plan ? "" : plan.error().to_string());
  return plan ? *std::move(plan) : Plan{};
}

TEST(VzPlan, LinuxBootCarriesKernelInitrdAndFullCommandLine) {
  Scratch scratch;
  const auto initrd = scratch.file("initrd.img");
  auto builder = VmConfig::builder();
  builder.linux_boot(scratch.kernel(), initrd, "root=/dev/vda").kernel_command_line_fragment(
      "console=hvc0");
  const auto plan = plan_of(test::built(builder), mac(14));
  const auto& boot = std::get<LinuxBootPlan>(plan.boot);
  EXPECT_EQ(boot.kernel, scratch.dir() / "Image");
  EXPECT_EQ(boot.initrd, initrd);
  EXPECT_EQ(boot.command_line, "root=/dev/vda console=hvc0");
}

TEST(VzPlan, EfiBootCarriesStoreAndCreateFlag) {
  Scratch scratch;
  const auto config = test::built(VmConfig::builder().efi_boot(
      EfiBoot{scratch.dir() / "efi.vars", true}));
  const auto plan = plan_of(config, mac(13));
  const auto& boot = std::get<EfiBootPlan>(plan.boot);
  EXPECT_EQ(boot.variable_store, scratch.dir() / "efi.vars");
  EXPECT_TRUE(boot.create_if_missing);
}

TEST(VzPlan, CpuAndMemoryAreCopied) {
  Scratch scratch;
  const auto plan = plan_of(test::built(scratch.linux_builder().cpus(4).memory(Size::mib(1536))),
                            mac(14));
  EXPECT_EQ(plan.cpus, 4U);
  EXPECT_EQ(plan.memory_bytes, Size::mib(1536).as_bytes());
}

TEST(VzPlan, DisksKeepOrderBusAndModes) {
  Scratch scratch;
  auto builder = scratch.linux_builder();
  builder.disk(scratch.file("root.img"));
  builder.disk(DiskImage{scratch.file("data.img"), DiskFormat::raw, true, CachingMode::uncached,
                         SyncMode::full, BlockBus::nvme, std::nullopt, {}});
  builder.disk(DiskImage{scratch.file("seed.img"), DiskFormat::raw, true, CachingMode::automatic,
                         SyncMode::none, BlockBus::usb, std::nullopt, {}});
  builder.disk(DiskImage{scratch.file("tagged.img"), DiskFormat::raw, false, CachingMode::cached,
                         SyncMode::fsync, BlockBus::virtio, std::string("vmm-scratch"), {}});
  const auto plan = plan_of(test::built(builder), mac(14));
  ASSERT_EQ(plan.storage.size(), 4U);
  // The Linux defaults: cached + fsync, the combination that does not corrupt guest filesystems.
  EXPECT_EQ(plan.storage[0].path, scratch.dir() / "root.img");
  EXPECT_EQ(plan.storage[0].caching, CachingMode::cached);
  EXPECT_EQ(plan.storage[0].sync, SyncMode::fsync);
  EXPECT_EQ(plan.storage[0].bus, BlockBus::virtio);
  EXPECT_FALSE(plan.storage[0].read_only);
  EXPECT_EQ(plan.storage[1].path, scratch.dir() / "data.img");
  EXPECT_EQ(plan.storage[1].bus, BlockBus::nvme);
  EXPECT_EQ(plan.storage[1].caching, CachingMode::uncached);
  EXPECT_EQ(plan.storage[1].sync, SyncMode::full);
  EXPECT_TRUE(plan.storage[1].read_only);
  EXPECT_EQ(plan.storage[2].bus, BlockBus::usb);
  EXPECT_EQ(plan.storage[2].sync, SyncMode::none);
  EXPECT_EQ(plan.storage[3].device_id, std::optional<std::string>("vmm-scratch"));
}

TEST(VzPlan, NetworksKeepOrderAndTheConfigsMacs) {
  Scratch scratch;
  const auto nat_mac = *MacAddress::parse("52:54:00:00:00:01");
  const auto bridged_mac = *MacAddress::parse("52:54:00:00:00:02");
  auto builder = scratch.linux_builder();
  builder.nat_network(nat_mac).network(BridgedNetwork{"en0"}, bridged_mac).nat_network();
  const auto config = test::built(builder);
  const auto plan = plan_of(config, mac(14));
  ASSERT_EQ(plan.networks.size(), 3U);
  EXPECT_TRUE(std::holds_alternative<NatAttachmentPlan>(plan.networks[0].attachment));
  EXPECT_EQ(plan.networks[0].mac, nat_mac);
  EXPECT_EQ(std::get<BridgedAttachmentPlan>(plan.networks[1].attachment).interface, "en0");
  EXPECT_EQ(plan.networks[1].mac, bridged_mac);
  // A generated MAC is the config's, not a new one per run (NAT DHCP leases, restore).
  EXPECT_EQ(plan.networks[2].mac, config.networks()[2].mac);
}

TEST(VzPlan, UnixDatagramGetsALocalSocketInTheWorkDirAndBigReceiveBuffer) {
  Scratch scratch;
  auto builder = scratch.linux_builder();
  builder.nat_network().network(UnixDatagramNetwork{"/tmp/peer.sock", 9000});
  const auto plan = plan_of(test::built(builder), mac(14), PlanOptions{scratch.dir(), false, {}});
  const auto& dgram = std::get<UnixDatagramAttachmentPlan>(plan.networks[1].attachment);
  EXPECT_EQ(dgram.local, scratch.dir() / "net1.sock");
  EXPECT_EQ(dgram.peer, "/tmp/peer.sock");
  EXPECT_EQ(dgram.mtu, 9000U);
  EXPECT_GE(dgram.receive_buffer, 4 * dgram.send_buffer);
  EXPECT_GT(dgram.send_buffer, 0);
}

TEST(VzPlan, UnixDatagramLocalPathTooLongIsInvalidConfig) {
  Scratch scratch;
  auto builder = scratch.linux_builder();
  builder.network(UnixDatagramNetwork{"/tmp/peer.sock", 1500});
  const auto deep = std::filesystem::path("/") / std::string(100, 'w');
  auto plan = make_plan(test::built(builder), mac(14), PlanOptions{deep, false, {}});
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code(), Errc::invalid_config);
  EXPECT_NE(plan.error().message().find("net0.sock"), std::string::npos);
}

TEST(VzPlan, VmnetSubnetIsParsedIntoAddressAndMask) {
  Scratch scratch;
  auto builder = scratch.linux_builder();
  builder.network(VmnetNetwork{"192.168.105.0/24"}).network(VmnetNetwork{});
  const auto plan = plan_of(test::built(builder), mac(26));
  const auto& with = std::get<VmnetAttachmentPlan>(plan.networks[0].attachment);
  ASSERT_TRUE(with.subnet);
  EXPECT_EQ(with.subnet->address, (std::array<std::uint8_t, 4>{192, 168, 105, 0}));
  EXPECT_EQ(with.subnet->mask, (std::array<std::uint8_t, 4>{255, 255, 255, 0}));
  EXPECT_FALSE(std::get<VmnetAttachmentPlan>(plan.networks[1].attachment).subnet);
}

TEST(VzPlan, GeneratedMachineIdentifierIsReplacedByAVzOne) {
  Scratch scratch;
  const auto config = test::built(scratch.linux_builder());
  ASSERT_TRUE(config.machine_identifier_generated());
  const auto plan = plan_of(config, mac(14));
  EXPECT_TRUE(plan.platform.generate_machine_identifier);
  EXPECT_TRUE(plan.platform.machine_identifier.empty());
}

TEST(VzPlan, GivenMachineIdentifierIsKept) {
  Scratch scratch;
  const std::vector<std::uint8_t> data{0x62, 0x70, 0x6c, 0x69, 0x73, 0x74};
  const auto config = test::built(scratch.linux_builder().machine_identifier(data));
  const auto plan = plan_of(config, mac(14));
  EXPECT_FALSE(plan.platform.generate_machine_identifier);
  EXPECT_EQ(plan.platform.machine_identifier, data);
}

TEST(VzPlan, SimpleDevicesAndSharesAreCarried) {
  Scratch scratch;
  auto builder = scratch.linux_builder();
  builder.vsock().entropy().balloon().share("home", scratch.directory("home"), true);
  std::map<std::string, SharedDirectory> many{{"a", {scratch.directory("a"), false}},
                                              {"b", {scratch.directory("b"), true}}};
  builder.share(VirtiofsShare{"many", many}).rosetta("rosetta");
  const auto plan = plan_of(test::built(builder), mac(14));
  EXPECT_TRUE(plan.vsock);
  EXPECT_TRUE(plan.entropy);
  EXPECT_TRUE(plan.balloon);
  ASSERT_EQ(plan.shares.size(), 2U);
  EXPECT_EQ(plan.shares[0].tag, "home");
  EXPECT_EQ(std::get<1>(plan.shares[1].source).size(), 2U);
  EXPECT_EQ(plan.rosetta_tag, std::optional<std::string>("rosetta"));
}

TEST(VzPlan, AbsentDevicesStayAbsent) {
  Scratch scratch;
  const auto plan = plan_of(test::built(scratch.linux_builder()), mac(14));
  EXPECT_FALSE(plan.vsock);
  EXPECT_FALSE(plan.entropy);
  EXPECT_FALSE(plan.balloon);
  EXPECT_FALSE(plan.rosetta_tag);
  EXPECT_FALSE(plan.platform.nested_virtualization);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(plan.serial));
}

}  // namespace
}  // namespace vmm::vz
