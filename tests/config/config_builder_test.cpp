// VmConfigBuilder and VmConfig: defaults, accessors, chaining, disks, command line, MACs,
// machine identifier and equality. The validation rules are in config_validation_test.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <stdexcept>

#include "config/test_support.hpp"
#include "vmm/config.hpp"

namespace {

using namespace vmm;
using testing::ElementsAre;
using vmm_test::IsOk;
using vmm_test::kMacA;
using vmm_test::kMacB;
using vmm_test::TempDir;

class ConfigBuilderTest : public testing::Test {
 protected:
  VmConfigBuilder booting() const { return VmConfig::builder().linux_boot(kernel_); }

  TempDir temp_;
  std::filesystem::path kernel_ = temp_.file("vmlinuz", "kernel");
};

const MacAddress kMacC({0x52, 0x54, 0x00, 0x00, 0x00, 0x0c});
const MacAddress kMacD({0x52, 0x54, 0x00, 0x00, 0x00, 0x0d});

TEST_F(ConfigBuilderTest, Defaults) {
  const auto config = booting().build();
  ASSERT_TRUE(IsOk(config));
  EXPECT_EQ(config->cpus(), 2u);
  EXPECT_EQ(config->memory(), Size::gib(1));
  ASSERT_TRUE(std::holds_alternative<LinuxBoot>(config->boot()));
  const auto& boot = std::get<LinuxBoot>(config->boot());
  EXPECT_EQ(boot.kernel, kernel_);
  EXPECT_FALSE(boot.initrd);
  EXPECT_EQ(boot.command_line, "");
  EXPECT_TRUE(boot.extra_command_line.empty());
  EXPECT_TRUE(config->networks().empty());
  EXPECT_TRUE(config->network_macs().empty());
  EXPECT_TRUE(config->shares().empty());
  EXPECT_TRUE(config->disks().empty());
  EXPECT_FALSE(config->vsock());
  EXPECT_TRUE(std::holds_alternative<std::monostate>(config->serial()));
  EXPECT_FALSE(config->entropy());
  EXPECT_FALSE(config->balloon());
  EXPECT_FALSE(config->rosetta_tag());
  EXPECT_FALSE(config->nested_virtualization());
  EXPECT_EQ(config->machine_identifier().size(), 16u);
  EXPECT_TRUE(config->machine_identifier_generated());
}

TEST_F(ConfigBuilderTest, DiskDefaultsAreCachedFsyncVirtioRaw) {
  const auto image = temp_.file("root.img");
  const auto config = booting().disk(image).disk(image, true).build();
  ASSERT_TRUE(IsOk(config));
  ASSERT_EQ(config->disks().size(), 2u);
  for (const auto& disk : config->disks()) {
    EXPECT_EQ(disk.path, image);
    EXPECT_EQ(disk.format, DiskFormat::raw);
    EXPECT_EQ(disk.caching, CachingMode::cached);
    EXPECT_EQ(disk.sync, SyncMode::fsync);
    EXPECT_EQ(disk.bus, BlockBus::virtio);
    EXPECT_FALSE(disk.device_id);
  }
  EXPECT_FALSE(config->disks()[0].read_only);
  EXPECT_TRUE(config->disks()[1].read_only);
}

TEST_F(ConfigBuilderTest, EveryAccessorReturnsWhatWasSet) {
  const auto initrd = temp_.file("initrd.img");
  const auto share_dir = temp_.dir("share");
  const auto image = temp_.file("data.img");
  const auto serial_log = temp_.path() / "serial.log";
  DiskImage disk;
  disk.path = image;
  disk.format = DiskFormat::qcow2;
  disk.read_only = true;
  disk.caching = CachingMode::uncached;
  disk.sync = SyncMode::full;
  disk.bus = BlockBus::nvme;
  disk.device_id = "data-disk";
  const std::vector<std::uint8_t> identifier{1, 2, 3, 4, 5};

  const auto config = VmConfig::builder()
                          .cpus(4)
                          .memory(Size::gib(3))
                          .linux_boot(kernel_, initrd, "console=hvc0")
                          .nat_network(kMacA)
                          .network(BridgedNetwork{"en0"}, kMacB)
                          .share("host", share_dir, true)
                          .disk(disk)
                          .vsock()
                          .serial(SerialToFile{serial_log, false})
                          .entropy()
                          .balloon()
                          .rosetta("rosetta")
                          .nested_virtualization()
                          .machine_identifier(identifier)
                          .build();
  ASSERT_TRUE(IsOk(config));
  EXPECT_EQ(config->cpus(), 4u);
  EXPECT_EQ(config->memory(), Size::gib(3));
  const auto& boot = std::get<LinuxBoot>(config->boot());
  EXPECT_EQ(boot.kernel, kernel_);
  EXPECT_EQ(boot.initrd, initrd);
  EXPECT_EQ(boot.command_line, "console=hvc0");
  ASSERT_EQ(config->networks().size(), 2u);
  EXPECT_TRUE(std::holds_alternative<NatNetwork>(config->networks()[0].attachment));
  EXPECT_EQ(config->networks()[0].mac, kMacA);
  EXPECT_EQ(config->networks()[1].attachment, NetworkAttachment(BridgedNetwork{"en0"}));
  EXPECT_EQ(config->networks()[1].mac, kMacB);
  ASSERT_EQ(config->shares().size(), 1u);
  EXPECT_EQ(config->shares()[0], (VirtiofsShare{"host", SharedDirectory{share_dir, true}}));
  ASSERT_EQ(config->disks().size(), 1u);
  EXPECT_EQ(config->disks()[0], disk);
  EXPECT_TRUE(config->vsock());
  EXPECT_EQ(config->serial(), SerialConsole(SerialToFile{serial_log, false}));
  EXPECT_TRUE(config->entropy());
  EXPECT_TRUE(config->balloon());
  EXPECT_EQ(config->rosetta_tag(), "rosetta");
  EXPECT_TRUE(config->nested_virtualization());
  EXPECT_EQ(config->machine_identifier(), identifier);
  EXPECT_FALSE(config->machine_identifier_generated());
}

TEST_F(ConfigBuilderTest, EntropyAndNestedCanBeSwitchedOffAgain) {
  const auto config = booting().entropy().entropy(false).nested_virtualization().nested_virtualization(false).build();
  ASSERT_TRUE(IsOk(config));
  EXPECT_FALSE(config->entropy());
  EXPECT_FALSE(config->nested_virtualization());
}

TEST_F(ConfigBuilderTest, EverySetterReturnsTheSameBuilder) {
  VmConfigBuilder b;
  EXPECT_EQ(&b.cpus(1), &b);
  EXPECT_EQ(&b.memory(Size::gib(1)), &b);
  EXPECT_EQ(&b.linux_boot(LinuxBoot{kernel_, {}, {}, {}}), &b);
  EXPECT_EQ(&b.linux_boot(kernel_), &b);
  EXPECT_EQ(&b.kernel_command_line_fragment("quiet"), &b);
  EXPECT_EQ(&b.efi_boot(EfiBoot{}), &b);
  EXPECT_EQ(&b.network(NatNetwork{}), &b);
  EXPECT_EQ(&b.nat_network(), &b);
  EXPECT_EQ(&b.macs({}), &b);
  EXPECT_EQ(&b.share(VirtiofsShare{}), &b);
  EXPECT_EQ(&b.share("t", "/"), &b);
  EXPECT_EQ(&b.disk(DiskImage{}), &b);
  EXPECT_EQ(&b.disk("/x"), &b);
  EXPECT_EQ(&b.vsock(), &b);
  EXPECT_EQ(&b.serial(std::monostate{}), &b);
  EXPECT_EQ(&b.entropy(), &b);
  EXPECT_EQ(&b.balloon(), &b);
  EXPECT_EQ(&b.rosetta("r"), &b);
  EXPECT_EQ(&b.nested_virtualization(), &b);
  EXPECT_EQ(&b.machine_identifier({1}), &b);
}

TEST_F(ConfigBuilderTest, LaterBootReplacesEarlierBoot) {
  const auto config = booting().efi_boot(EfiBoot{temp_.path() / "nvram", true}).build();
  ASSERT_TRUE(IsOk(config));
  ASSERT_TRUE(std::holds_alternative<EfiBoot>(config->boot()));
  EXPECT_EQ(std::get<EfiBoot>(config->boot()).variable_store, temp_.path() / "nvram");
}

TEST_F(ConfigBuilderTest, AddDiskReturnsSequentialIds) {
  auto builder = booting();
  std::vector<BlockDeviceId> ids;
  for (int i = 0; i < 3; ++i) {
    DiskImage disk;
    disk.path = temp_.file("disk" + std::to_string(i) + ".img");
    ids.push_back(builder.add_disk(disk));
  }
  builder.disk(temp_.file("disk3.img"));
  DiskImage last;
  last.path = temp_.file("disk4.img");
  ids.push_back(builder.add_disk(last));
  EXPECT_THAT(ids, ElementsAre(BlockDeviceId{0}, BlockDeviceId{1}, BlockDeviceId{2},
                               BlockDeviceId{4}));
  const auto config = builder.build();
  ASSERT_TRUE(IsOk(config));
  for (const auto id : ids)
    EXPECT_EQ(config->disk(id).path, temp_.path() / ("disk" + std::to_string(id.index) + ".img"));
  EXPECT_THROW((void)config->disk(BlockDeviceId{5}), std::out_of_range);
}

TEST_F(ConfigBuilderTest, CommandLineFragmentsAreAppendedInOrder) {
  const auto config = VmConfig::builder()
                          .kernel_command_line_fragment("early")  // before the boot is set
                          .linux_boot(LinuxBoot{kernel_, {}, "console=hvc0", {"given"}})
                          .kernel_command_line_fragment("quiet")
                          .kernel_command_line_fragment("loglevel=3")
                          .build();
  ASSERT_TRUE(IsOk(config));
  const auto& boot = std::get<LinuxBoot>(config->boot());
  EXPECT_EQ(boot.command_line, "console=hvc0");
  EXPECT_THAT(boot.extra_command_line, ElementsAre("given", "early", "quiet", "loglevel=3"));
  EXPECT_EQ(boot.full_command_line(), "console=hvc0 given early quiet loglevel=3");
}

TEST_F(ConfigBuilderTest, MissingMacsAreGeneratedUniqueAndLocallyAdministered) {
  auto builder = booting();
  for (int i = 0; i < 8; ++i) builder.nat_network();
  const auto config = builder.build();
  ASSERT_TRUE(IsOk(config));
  std::set<MacAddress> distinct;
  for (const auto& network : config->networks()) {
    EXPECT_TRUE(network.mac.is_locally_administered()) << network.mac.to_string();
    EXPECT_FALSE(network.mac.is_multicast()) << network.mac.to_string();
    EXPECT_NE(network.mac, MacAddress());
    distinct.insert(network.mac);
  }
  EXPECT_EQ(distinct.size(), 8u);
}

TEST_F(ConfigBuilderTest, GivenMacsAreKeptAtTheirIndexAndGeneratedOnesAvoidThem) {
  const auto config = booting().nat_network().nat_network(kMacA).nat_network().build();
  ASSERT_TRUE(IsOk(config));
  const auto macs = config->network_macs();
  ASSERT_EQ(macs.size(), 3u);
  EXPECT_EQ(macs[1], kMacA);
  EXPECT_NE(macs[0], kMacA);
  EXPECT_NE(macs[2], kMacA);
  EXPECT_NE(macs[0], macs[2]);
  EXPECT_TRUE(macs[0].is_locally_administered());
  EXPECT_TRUE(macs[2].is_locally_administered());
}

TEST_F(ConfigBuilderTest, GeneratedMacsStayWithTheBuiltConfig) {
  const auto builder = booting().nat_network().nat_network();
  const auto config = builder.build();
  ASSERT_TRUE(IsOk(config));
  const auto macs = config->network_macs();
  EXPECT_EQ(config->network_macs(), macs);  // asking again does not regenerate
  const VmConfig copy = *config;
  EXPECT_EQ(copy.network_macs(), macs);
  EXPECT_EQ(copy, *config);

  // The builder does not remember them: each build() draws new MACs and a new identifier.
  const auto again = builder.build();
  ASSERT_TRUE(IsOk(again));
  EXPECT_NE(again->network_macs()[0], macs[0]);
  EXPECT_NE(again->network_macs()[1], macs[1]);
  EXPECT_NE(again->machine_identifier(), config->machine_identifier());
  EXPECT_NE(*again, *config);
}

TEST_F(ConfigBuilderTest, NetworkMacsFollowNetworkOrder) {
  const auto config = booting()
                          .network(BridgedNetwork{"en0"}, kMacC)
                          .nat_network(kMacA)
                          .network(VmnetNetwork{}, kMacB)
                          .build();
  ASSERT_TRUE(IsOk(config));
  EXPECT_THAT(config->network_macs(), ElementsAre(kMacC, kMacA, kMacB));
  ASSERT_EQ(config->networks().size(), 3u);
  EXPECT_EQ(network_kind(config->networks()[0].attachment), "bridged");
  EXPECT_EQ(network_kind(config->networks()[1].attachment), "nat");
  EXPECT_EQ(network_kind(config->networks()[2].attachment), "vmnet");
}

TEST_F(ConfigBuilderTest, MacsOverridePerNetworkMacs) {
  const auto config =
      booting().nat_network(kMacA).nat_network(kMacB).nat_network().macs({kMacC, kMacD, kMacA}).build();
  ASSERT_TRUE(IsOk(config));
  EXPECT_THAT(config->network_macs(), ElementsAre(kMacC, kMacD, kMacA));
}

TEST_F(ConfigBuilderTest, GeneratedMachineIdentifierIsAVersion4Uuid) {
  for (int i = 0; i < 50; ++i) {
    const auto config = booting().build();
    ASSERT_TRUE(IsOk(config));
    const auto& id = config->machine_identifier();
    ASSERT_EQ(id.size(), 16u);
    EXPECT_EQ(id[6] & 0xF0, 0x40) << "version nibble";
    EXPECT_EQ(id[8] & 0xC0, 0x80) << "RFC 4122 variant";
    EXPECT_TRUE(config->machine_identifier_generated());
  }
}

TEST_F(ConfigBuilderTest, GivenMachineIdentifierIsKeptUnchanged) {
  // Bytes that are not a v4 UUID: the builder must not touch them.
  const std::vector<std::uint8_t> identifier(16, 0xFF);
  const auto config = booting().machine_identifier(identifier).build();
  ASSERT_TRUE(IsOk(config));
  EXPECT_EQ(config->machine_identifier(), identifier);
  EXPECT_FALSE(config->machine_identifier_generated());

  const std::vector<std::uint8_t> opaque(200, 0x5A);  // e.g. VZ machine identifier data
  const auto vz = booting().machine_identifier(opaque).build();
  ASSERT_TRUE(IsOk(vz));
  EXPECT_EQ(vz->machine_identifier(), opaque);
}

TEST_F(ConfigBuilderTest, EqualityComparesEveryField) {
  const std::vector<std::uint8_t> identifier{9, 9, 9};
  const auto base = [&] {
    return booting().nat_network(kMacA).machine_identifier(identifier);
  };
  const auto a = base().build();
  const auto b = base().build();
  ASSERT_TRUE(IsOk(a));
  ASSERT_TRUE(IsOk(b));
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *base().cpus(3).build());
  EXPECT_NE(*a, *base().memory(Size::gib(2)).build());
  EXPECT_NE(*a, *base().kernel_command_line_fragment("quiet").build());
  EXPECT_NE(*a, *base().nat_network(kMacB).build());
  EXPECT_NE(*a, *base().macs({kMacB}).build());
  EXPECT_NE(*a, *base().vsock().build());
  EXPECT_NE(*a, *base().entropy().build());
  EXPECT_NE(*a, *base().balloon().build());
  EXPECT_NE(*a, *base().rosetta("r").build());
  EXPECT_NE(*a, *base().nested_virtualization().build());
  EXPECT_NE(*a, *base().machine_identifier({9, 9}).build());
}

}  // namespace

namespace vmm {
namespace {

// Restores the current directory when the test ends, pass or fail.
class InDirectory {
 public:
  explicit InDirectory(const std::filesystem::path& dir) : previous_(std::filesystem::current_path()) {
    std::filesystem::current_path(dir);
  }
  ~InDirectory() {
    std::error_code ignored;
    std::filesystem::current_path(previous_, ignored);
  }
  InDirectory(const InDirectory&) = delete;
  InDirectory& operator=(const InDirectory&) = delete;

 private:
  std::filesystem::path previous_;
};

// A config keeps working from another directory: build() stores every path absolute, so its
// JSON (printed by vmm-run, written into snapshot manifests) names the same files anywhere.
TEST(ConfigPaths, RelativePathsAreStoredAbsoluteAgainstTheDirectoryAtBuild) {
  vmm_test::TempDir temp;
  temp.file("vmlinuz", "kernel");
  temp.file("initrd", "initrd");
  temp.file("disk.img", "disk");
  temp.dir("share");
  const auto base = std::filesystem::canonical(temp.path());
  Result<VmConfig> built = make_error(Errc::invalid_config, "not built");
  {
    InDirectory in(base);
    built = VmConfig::builder()
                .linux_boot("vmlinuz", std::filesystem::path("initrd"))
                .disk("disk.img")
                .share("tag", "share")
                .serial(SerialToFile{"console.log"})
                .network(UnixDatagramNetwork{"peer.sock"})
                .build();
  }
  ASSERT_TRUE(built) << built.error().to_string();
  const auto& boot = std::get<LinuxBoot>(built->boot());
  EXPECT_EQ(boot.kernel, base / "vmlinuz");
  EXPECT_EQ(boot.initrd, base / "initrd");
  EXPECT_EQ(built->disks().at(0).path, base / "disk.img");
  EXPECT_EQ(std::get<SharedDirectory>(built->shares().at(0).source).directory, base / "share");
  EXPECT_EQ(std::get<SerialToFile>(built->serial()).path, base / "console.log");
  EXPECT_EQ(std::get<UnixDatagramNetwork>(built->networks().at(0).attachment).socket,
            base / "peer.sock");
  // Read back from its JSON elsewhere, it is the same config.
  auto again = VmConfig::from_json(built->to_json());
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(*again, *built);
}

TEST(ConfigPaths, AbsolutePathsAreKeptAsGiven) {
  vmm_test::TempDir temp;
  const auto kernel = temp.file("vmlinuz", "kernel");
  auto built = VmConfig::builder().linux_boot(kernel).build();
  ASSERT_TRUE(built) << built.error().to_string();
  EXPECT_EQ(std::get<LinuxBoot>(built->boot()).kernel, kernel);
}

}  // namespace
}  // namespace vmm
