// Restore compatibility: each kind of difference is refused and named.
#include <gtest/gtest.h>

#include <gmock/gmock.h>

#include "support/fake_vm.hpp"
#include "snapshot/compat.hpp"
#include "vmm/mac_address.hpp"

namespace vmm::testing {
namespace {

using ::testing::HasSubstr;

// One description of a machine; each test changes one thing.
struct Shape {
  std::uint32_t cpus = 2;
  Size memory = Size::mib(512);
  std::vector<std::string> macs = {"52:54:00:12:34:56"};
  bool first_network_unix = false;
  std::vector<std::string> disks = {"root.img"};
  bool disk_read_only = false;
  std::vector<std::string> shares;
  bool vsock = true;
  bool balloon = false;
  bool entropy = false;
  bool serial = false;
  std::uint8_t machine_id = 0x42;
};

class Compat : public ::testing::Test {
 protected:
  TempDir dir_;

  VmConfig build(const Shape& shape) {
    auto builder = VmConfig::builder();
    builder.cpus(shape.cpus)
        .memory(shape.memory)
        .linux_boot(dir_.file("vmlinuz"))
        .machine_identifier(std::vector<std::uint8_t>(16, shape.machine_id));
    for (std::size_t i = 0; i < shape.macs.size(); ++i) {
      auto mac = *MacAddress::parse(shape.macs[i]);
      if (i == 0 && shape.first_network_unix) {
        builder.network(UnixDatagramNetwork{.socket = dir_.path() / "net.sock"}, mac);
      } else {
        builder.nat_network(mac);
      }
    }
    for (const auto& disk : shape.disks) builder.disk(dir_.file(disk), shape.disk_read_only);
    for (const auto& tag : shape.shares) {
      std::filesystem::create_directories(dir_.path() / tag);
      builder.share(tag, dir_.path() / tag);
    }
    if (shape.vsock) builder.vsock();
    if (shape.balloon) builder.balloon();
    builder.entropy(shape.entropy);
    if (shape.serial) builder.serial(SerialToFile{.path = dir_.path() / "console.log"});
    auto config = builder.build();
    EXPECT_TRUE(config) << config.error().to_string();
    return *config;
  }

  SnapshotManifest saved(const Shape& shape, std::string backend = "qemu",
                         std::optional<bool> serial_port = std::nullopt) {
    return SnapshotManifest{.format_version = SnapshotManifest::current_format_version,
                            .backend = std::move(backend),
                            .config = build(shape),
                            .state_file = "state.qemu",
                            .created_at = "2026-11-22T21:40:00Z",
                            .library_version = "0.1.0",
                            .serial_port = serial_port,
                            .digests = {}};
  }

  // The refusal message when restoring `before` into a VM shaped `after`.
  std::string refusal(const Shape& before, const Shape& after) {
    auto result = detail::check_snapshot_compatible(saved(before), "qemu", build(after));
    if (result) return "(accepted)";
    EXPECT_EQ(result.error().code(), Errc::invalid_config);
    return result.error().message();
  }
};

TEST_F(Compat, IdenticalMachineIsAccepted) {
  EXPECT_TRUE(detail::check_snapshot_compatible(saved({}), "qemu", build({})));
}

TEST_F(Compat, OtherBackendIsRefusedFirst) {
  Shape other;
  other.cpus = 4;  // also different, but the backend is named first
  auto result =
      detail::check_snapshot_compatible(saved({}, "qemu"), "virtualization_framework", build(other));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message(),
            "restore: snapshot was made by qemu, this VM uses virtualization_framework");
}

// vmm 0.1.0's QEMU machines had no virtio console: QEMU cannot load their state any more.
TEST_F(Compat, FormatOneQemuBundleIsRefusedSayingWhy) {
  auto manifest = saved({}, "qemu");
  manifest.format_version = 1;
  auto result = detail::check_snapshot_compatible(manifest, "qemu", build({}));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), Errc::invalid_config);
  EXPECT_THAT(result.error().message(), ::testing::HasSubstr("manifest format 1"));
  EXPECT_THAT(result.error().message(), ::testing::HasSubstr("virtio console (hvc0)"));
  // The same bundle from Virtualization.framework, whose devices did not change, is accepted.
  auto vz = saved({}, "virtualization_framework");
  vz.format_version = 1;
  EXPECT_TRUE(detail::check_snapshot_compatible(vz, "virtualization_framework", build({})));
}

TEST_F(Compat, MachineIdentifierIsCheckedBeforeMacs) {
  Shape other;
  other.machine_id = 0x43;
  other.macs = {"52:54:00:00:00:01"};
  EXPECT_THAT(refusal({}, other), HasSubstr("restore: machine identifier"));
}

TEST_F(Compat, MacIsNamedByNetworkIndex) {
  Shape before;
  before.macs = {"52:54:00:00:00:01", "52:54:00:00:00:02"};
  Shape after = before;
  after.macs[1] = "52:54:00:00:00:03";
  EXPECT_EQ(refusal(before, after),
            "restore: networks[1].mac: the snapshot has MAC 52:54:00:00:00:02, this VM has MAC "
            "52:54:00:00:00:03");
}

TEST_F(Compat, NetworkCountAndKind) {
  Shape more;
  more.macs.push_back("52:54:00:00:00:09");
  EXPECT_EQ(refusal({}, more), "restore: networks: the snapshot has 1, this VM has 2");
  Shape unix_network;
  unix_network.first_network_unix = true;
  EXPECT_EQ(refusal({}, unix_network),
            "restore: networks[0].kind: the snapshot has nat, this VM has unix_datagram");
}

TEST_F(Compat, Disks) {
  Shape two;
  two.disks.push_back("data.img");
  EXPECT_EQ(refusal({}, two), "restore: disks: the snapshot has 1, this VM has 2");
  Shape moved;
  moved.disks = {"other.img"};
  EXPECT_THAT(refusal({}, moved), HasSubstr("restore: disks[0].path: the snapshot has \""));
  Shape read_only;
  read_only.disk_read_only = true;
  EXPECT_EQ(refusal({}, read_only),
            "restore: disks[0].read_only: the snapshot has false, this VM has true");
}

TEST_F(Compat, Shares) {
  Shape shared;
  shared.shares = {"src"};
  EXPECT_EQ(refusal({}, shared), "restore: shares: the snapshot has 0, this VM has 1");
  Shape renamed;
  renamed.shares = {"dst"};
  EXPECT_EQ(refusal(shared, renamed), "restore: shares[0].tag: the snapshot has src, this VM has dst");
}

TEST_F(Compat, SingleDevices) {
  Shape no_vsock;
  no_vsock.vsock = false;
  EXPECT_EQ(refusal({}, no_vsock), "restore: vsock: the snapshot has a vsock device, this VM has none");
  Shape balloon;
  balloon.balloon = true;
  EXPECT_EQ(refusal({}, balloon), "restore: balloon: the snapshot has none, this VM has a memory balloon");
  Shape entropy;
  entropy.entropy = true;
  EXPECT_EQ(refusal({}, entropy), "restore: entropy: the snapshot has none, this VM has an entropy device");
  Shape serial;
  serial.serial = true;
  EXPECT_THAT(refusal({}, serial), HasSubstr("restore: serial:"));
}

TEST_F(Compat, CpusAndMemory) {
  Shape cpus;
  cpus.cpus = 4;
  EXPECT_EQ(refusal({}, cpus), "restore: cpus: the snapshot has 2, this VM has 4");
  Shape memory;
  memory.memory = Size::gib(1);
  EXPECT_EQ(refusal({}, memory), "restore: memory: the snapshot has 512MiB, this VM has 1GiB");
}

// Virtualization.framework compares the device list on restore, and on_console_line adds a
// serial port there: the port the machine had, recorded in the manifest, must match.
TEST_F(Compat, SerialPortFromAConsoleLineCallbackMustMatch) {
  // Saved with a callback (port, no serial in the config) -> restored without one: refused.
  auto without = detail::check_snapshot_compatible(saved({}, "virtualization_framework", true),
                                                   "virtualization_framework", build({}), false);
  ASSERT_FALSE(without);
  EXPECT_EQ(without.error().code(), Errc::invalid_config);
  EXPECT_THAT(without.error().message(), HasSubstr("restore: serial: the snapshot has a serial "
                                                   "console port, this VM has none"));
  EXPECT_THAT(without.error().message(), HasSubstr("on_console_line"));
  // And the other way round.
  auto with = detail::check_snapshot_compatible(saved({}, "virtualization_framework", false),
                                                "virtualization_framework", build({}), true);
  ASSERT_FALSE(with);
  EXPECT_THAT(with.error().message(), HasSubstr("the snapshot has none, this VM has a serial"));
  // Same port on both sides: accepted, whether it came from serial() or the callback.
  Shape serial;
  serial.serial = true;
  EXPECT_TRUE(detail::check_snapshot_compatible(saved({}, "virtualization_framework", true),
                                                "virtualization_framework", build(serial), true));
}

TEST_F(Compat, ManifestWithoutSerialPortFallsBackToTheConfig) {
  Shape serial;
  serial.serial = true;
  // An old manifest (no serial_port) of a VM with serial set: a machine with a port matches.
  EXPECT_TRUE(detail::check_snapshot_compatible(saved(serial), "qemu", build({}), true));
  auto refused = detail::check_snapshot_compatible(saved(serial), "qemu", build({}), false);
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message(), HasSubstr("restore: serial:"));
}

}  // namespace
}  // namespace vmm::testing
