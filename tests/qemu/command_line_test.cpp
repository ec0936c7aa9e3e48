// The VmConfig -> QEMU argv decisions, without QEMU.
#include "qemu/command_line.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "test_support.hpp"
#include "vmm/vmm.hpp"

namespace vmm::qemu {
namespace {

using nlohmann::json;
using testing::has_flag;
using testing::ScratchDir;
using testing::values_of;

// The -device values besides the virtio console's two, which every command line has (tested
// on their own below).
std::vector<std::string> other_devices(const std::vector<std::string>& argv) {
  std::vector<std::string> devices;
  for (auto& device : values_of(argv, "-device")) {
    if (device.rfind("virtio-serial-", 0) != 0 && device.rfind("virtconsole,", 0) != 0) {
      devices.push_back(std::move(device));
    }
  }
  return devices;
}

class CommandLineTest : public ::testing::Test {
 protected:
  CommandLineTest() {
    kernel_ = scratch_.file("vmlinuz");
    initrd_ = scratch_.file("initrd.img");
    host_.binary = "/usr/bin/qemu-system-x86_64";
    host_.acceleration = Acceleration::tcg;
    host_.tsc_khz = 2596122;
    host_.virtiofsd = "/usr/lib/qemu/virtiofsd";
  }

  VmConfigBuilder linux_builder() {
    auto builder = VmConfig::builder();
    builder.cpus(1).memory(Size::mib(256)).linux_boot(kernel_, initrd_, "console=ttyS0 quiet");
    return builder;
  }

  VmConfig build(const VmConfigBuilder& builder) {
    auto config = builder.build();
    EXPECT_TRUE(config.has_value()) << (config ? "" : config.error().to_string());
    return *config;
  }

  Result<QemuCommandLine> command_line(const VmConfigBuilder& builder) {
    return build_qemu_command_line(build(builder), host_, paths_);
  }

  std::vector<std::string> argv(const VmConfigBuilder& builder) {
    auto line = command_line(builder);
    EXPECT_TRUE(line.has_value()) << (line ? "" : line.error().to_string());
    return line ? line->argv : std::vector<std::string>{};
  }

  void expect_unsupported(const VmConfigBuilder& builder, std::string_view mentions) {
    auto line = command_line(builder);
    ASSERT_FALSE(line.has_value());
    EXPECT_EQ(line.error().code(), Errc::unsupported);
    EXPECT_NE(line.error().message().find(mentions), std::string::npos) << line.error().message();
  }

  ScratchDir scratch_;
  std::filesystem::path kernel_;
  std::filesystem::path initrd_;
  QemuHostFacts host_;
  QemuRuntimePaths paths_;
};

TEST_F(CommandLineTest, LinuxBootUsesMicrovmWithTheBaseFlags) {
  const auto line = command_line(linux_builder());
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->machine, MachineType::microvm);
  const auto& a = line->argv;
  EXPECT_EQ(a.front(), "/usr/bin/qemu-system-x86_64");
  EXPECT_EQ(values_of(a, "-machine"), std::vector<std::string>{"microvm,acpi=on"});
  EXPECT_EQ(values_of(a, "-accel"), std::vector<std::string>{"tcg"});
  EXPECT_TRUE(values_of(a, "-cpu").empty());
  for (const char* flag : {"-nodefaults", "-no-user-config", "-no-reboot"}) {
    EXPECT_TRUE(has_flag(a, flag)) << flag;
  }
  EXPECT_EQ(values_of(a, "-display"), std::vector<std::string>{"none"});
  EXPECT_EQ(values_of(a, "-smp"), std::vector<std::string>{"1"});
  EXPECT_EQ(values_of(a, "-m"), std::vector<std::string>{"256M"});
  EXPECT_EQ(values_of(a, "-kernel"), std::vector<std::string>{kernel_.string()});
  EXPECT_EQ(values_of(a, "-initrd"), std::vector<std::string>{initrd_.string()});
  EXPECT_EQ(values_of(a, "-append"),
            std::vector<std::string>{"console=ttyS0 quiet tsc_early_khz=2596122"});
  EXPECT_EQ(values_of(a, "-global"), std::vector<std::string>{"virtio-mmio.force-legacy=false"});
  EXPECT_FALSE(has_flag(a, "-S"));  // the engine adds run-specific flags itself
}

TEST_F(CommandLineTest, ControlAndConsoleUseTheDescriptorsTheEngineMapped) {
  paths_.qmp_fd = 7;
  paths_.console_fd = 9;
  paths_.virtio_console_fd = 11;
  const auto a = argv(linux_builder());
  EXPECT_EQ(values_of(a, "-chardev"),
            (std::vector<std::string>{"socket,id=qmp,fd=7", "socket,id=console,fd=9",
                                      "socket,id=hvc,fd=11"}));
  EXPECT_EQ(values_of(a, "-mon"), std::vector<std::string>{"chardev=qmp,mode=control"});
  EXPECT_EQ(values_of(a, "-serial"), std::vector<std::string>{"chardev:console"});
}

// console=hvc0 works on QEMU as on VZ: a virtconsole on virtio-serial over virtio-mmio (the
// modern transport that microvm's -global already selects), next to the ttyS0 UART.
TEST_F(CommandLineTest, MicrovmHasAVirtioConsoleOnVirtioMmio) {
  auto builder = VmConfig::builder();
  builder.cpus(1).memory(Size::mib(256)).linux_boot(kernel_, initrd_, "console=hvc0");
  const auto line = command_line(builder);
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->machine, MachineType::microvm);
  EXPECT_EQ(values_of(line->argv, "-global"),
            std::vector<std::string>{"virtio-mmio.force-legacy=false"});
  EXPECT_EQ(values_of(line->argv, "-device"),
            (std::vector<std::string>{"virtio-serial-device,id=virtio-serial0",
                                      "virtconsole,bus=virtio-serial0.0,chardev=hvc,id=hvc0"}));
  EXPECT_EQ(values_of(line->argv, "-chardev").back(), "socket,id=hvc,fd=5");
  EXPECT_EQ(values_of(line->argv, "-serial"), std::vector<std::string>{"chardev:console"});
  EXPECT_EQ(line->input_console, ConsoleDevice::virtio);
}

// The log before hvc0 exists goes to the UART as an early console; a command line that picks
// its own early console keeps it.
TEST_F(CommandLineTest, Hvc0GetsTheUartAsEarlyConsoleUnlessOneIsNamed) {
  host_.tsc_khz = 0;
  const auto append_for = [&](std::string cmdline) {
    auto builder = VmConfig::builder();
    builder.cpus(1).memory(Size::mib(256)).linux_boot(kernel_, initrd_, std::move(cmdline));
    return values_of(argv(builder), "-append");
  };
  EXPECT_EQ(append_for("console=hvc0 quiet"),
            std::vector<std::string>{
                "console=hvc0 quiet earlycon=uart8250,io,0x3f8,115200"});
  EXPECT_EQ(append_for("console=hvc0 earlycon"),
            std::vector<std::string>{"console=hvc0 earlycon"});
  EXPECT_EQ(append_for("earlyprintk=ttyS0 console=hvc0"),
            std::vector<std::string>{"earlyprintk=ttyS0 console=hvc0"});
  EXPECT_EQ(append_for("console=ttyS0 quiet"),
            std::vector<std::string>{"console=ttyS0 quiet"});
  EXPECT_EQ(append_for("console=hvc0 console=ttyS0"),
            std::vector<std::string>{"console=hvc0 console=ttyS0"});
}

TEST_F(CommandLineTest, Q35HasAVirtioConsoleOnPci) {
  DiskImage disk;
  disk.path = scratch_.file("disk.img");
  disk.bus = BlockBus::nvme;
  auto builder = VmConfig::builder();
  builder.cpus(1).memory(Size::mib(256)).linux_boot(kernel_, initrd_, "console=hvc0").disk(disk);
  const auto line = command_line(builder);
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->machine, MachineType::q35);
  const auto devices = values_of(line->argv, "-device");
  ASSERT_EQ(devices.size(), 3u);
  EXPECT_EQ(devices[0], "virtio-serial-pci,id=virtio-serial0");
  EXPECT_EQ(devices[1], "virtconsole,bus=virtio-serial0.0,chardev=hvc,id=hvc0");
  EXPECT_EQ(line->input_console, ConsoleDevice::virtio);
}

// Host input goes to the console the kernel made /dev/console: its last console= argument.
TEST_F(CommandLineTest, InputGoesToTheLastConsoleOnTheKernelCommandLine) {
  const auto input_for = [&](std::string cmdline) {
    auto builder = VmConfig::builder();
    builder.cpus(1).memory(Size::mib(256)).linux_boot(kernel_, initrd_, std::move(cmdline));
    auto line = command_line(builder);
    EXPECT_TRUE(line.has_value());
    return line ? line->input_console : ConsoleDevice::serial;
  };
  EXPECT_EQ(input_for("console=ttyS0 quiet"), ConsoleDevice::serial);
  EXPECT_EQ(input_for("quiet console=hvc0"), ConsoleDevice::virtio);
  EXPECT_EQ(input_for("console=hvc0 console=ttyS0,115200"), ConsoleDevice::serial);
  EXPECT_EQ(input_for("console=ttyS0\tconsole=hvc1"), ConsoleDevice::virtio);
  EXPECT_EQ(input_for("quiet"), ConsoleDevice::serial);
  EXPECT_EQ(input_for("netconsole=hvc0 xconsole=hvc0"), ConsoleDevice::serial);
  EXPECT_EQ(input_for(""), ConsoleDevice::serial);
}

TEST_F(CommandLineTest, NoTscHintWhenTheHostFrequencyIsUnknown) {
  host_.tsc_khz = 0;
  EXPECT_EQ(values_of(argv(linux_builder()), "-append"),
            std::vector<std::string>{"console=ttyS0 quiet"});
}

TEST_F(CommandLineTest, KvmUsesTheHostCpu) {
  host_.acceleration = Acceleration::kvm;
  const auto a = argv(linux_builder());
  EXPECT_EQ(values_of(a, "-accel"), std::vector<std::string>{"kvm"});
  EXPECT_EQ(values_of(a, "-cpu"), std::vector<std::string>{"host"});
}

TEST_F(CommandLineTest, SixteenByteIdentifierIsTheUuid) {
  std::vector<std::uint8_t> id;
  for (std::uint8_t i = 0; i < 16; ++i) id.push_back(i);
  auto builder = linux_builder();
  builder.machine_identifier(id);
  EXPECT_EQ(values_of(argv(builder), "-uuid"),
            std::vector<std::string>{"00010203-0405-0607-0809-0a0b0c0d0e0f"});
  EXPECT_EQ(machine_uuid_bytes(id), id);
}

TEST_F(CommandLineTest, OtherIdentifierLengthsHashToAStableVersion8Uuid) {
  const std::vector<std::uint8_t> a = {1, 2, 3};
  const std::vector<std::uint8_t> b = {1, 2, 4};
  const auto uuid = machine_uuid(a);
  ASSERT_EQ(uuid.size(), 36u);
  EXPECT_EQ(uuid, machine_uuid(a));
  EXPECT_NE(uuid, machine_uuid(b));
  EXPECT_EQ(uuid[14], '8');                                   // version
  EXPECT_NE(std::string("89ab").find(uuid[19]), std::string::npos);  // variant
  EXPECT_EQ(machine_uuid_bytes(a).size(), 16u);
}

TEST_F(CommandLineTest, RawDiskIsAVirtioBlockDeviceWithCachedFsyncDefaults) {
  const auto disk = scratch_.file("disk.img");
  auto builder = linux_builder();
  builder.disk(disk);
  const auto a = argv(builder);
  const auto blockdevs = values_of(a, "-blockdev");
  ASSERT_EQ(blockdevs.size(), 1u);
  const auto node = json::parse(blockdevs[0]);
  EXPECT_EQ(node["driver"], "raw");
  EXPECT_EQ(node["node-name"], "disk0");
  EXPECT_EQ(node["read-only"], false);
  EXPECT_EQ(node["file"]["driver"], "file");
  EXPECT_EQ(node["file"]["filename"], disk.string());
  EXPECT_EQ(node["file"]["cache"]["direct"], false);
  EXPECT_EQ(node["file"]["cache"]["no-flush"], false);
  EXPECT_EQ(other_devices(a), std::vector<std::string>{"virtio-blk-device,drive=disk0,werror=report,rerror=report"});
}

TEST_F(CommandLineTest, UncachedUnsyncedReadOnlyQcow2MapsToQemuCacheKnobs) {
  DiskImage disk;
  disk.path = scratch_.file("disk.qcow2");
  disk.format = DiskFormat::qcow2;
  disk.read_only = true;
  disk.caching = CachingMode::uncached;
  disk.sync = SyncMode::none;
  disk.device_id = "serial,with,commas";
  auto builder = linux_builder();
  builder.disk(disk);
  const auto a = argv(builder);
  const auto node = json::parse(values_of(a, "-blockdev").at(0));
  EXPECT_EQ(node["driver"], "qcow2");
  EXPECT_EQ(node["read-only"], true);
  EXPECT_EQ(node["file"]["read-only"], true);
  EXPECT_EQ(node["cache"]["direct"], true);
  EXPECT_EQ(node["cache"]["no-flush"], true);
  EXPECT_EQ(other_devices(a),
            std::vector<std::string>{"virtio-blk-device,drive=disk0,serial=serial,,with,,commas,werror=report,rerror=report"});
}

// QEMU refuses a block device under the `file` driver; host_device takes the same options, so
// read-only and the caching/sync modes map as for an image file. Regular files keep `file`.
TEST_F(CommandLineTest, BlockDeviceDisksUseTheHostDeviceDriver) {
  // The engine's stat decides what is a block device; the builder only reads its answer, so
  // plain files stand in for the devices here.
  DiskImage read_only_device;
  read_only_device.path = scratch_.file("sdb");
  read_only_device.read_only = true;
  read_only_device.caching = CachingMode::uncached;
  read_only_device.sync = SyncMode::none;
  DiskImage qcow2_device;
  qcow2_device.path = scratch_.file("lv0");
  qcow2_device.format = DiskFormat::qcow2;
  const auto file = scratch_.file("disk.img");
  auto builder = linux_builder();
  builder.disk(read_only_device).disk(qcow2_device).disk(file);
  paths_.disk_is_block_device = {true, true};  // the third disk has no entry: a file
  const auto a = argv(builder);
  const auto blockdevs = values_of(a, "-blockdev");
  ASSERT_EQ(blockdevs.size(), 3u);

  const auto ro = json::parse(blockdevs[0]);
  EXPECT_EQ(ro["driver"], "raw");
  EXPECT_EQ(ro["read-only"], true);
  EXPECT_EQ(ro["file"]["driver"], "host_device");
  EXPECT_EQ(ro["file"]["filename"], read_only_device.path.string());
  EXPECT_EQ(ro["file"]["read-only"], true);
  EXPECT_EQ(ro["file"]["cache"]["direct"], true);
  EXPECT_EQ(ro["file"]["cache"]["no-flush"], true);

  const auto qcow2 = json::parse(blockdevs[1]);
  EXPECT_EQ(qcow2["driver"], "qcow2");
  EXPECT_EQ(qcow2["file"]["driver"], "host_device");
  EXPECT_EQ(qcow2["file"]["read-only"], false);
  EXPECT_EQ(qcow2["file"]["cache"]["direct"], false);
  EXPECT_EQ(qcow2["file"]["cache"]["no-flush"], false);

  EXPECT_EQ(json::parse(blockdevs[2])["file"]["driver"], "file");
  // The guest sees the same virtio disk either way.
  EXPECT_EQ(other_devices(a),
            (std::vector<std::string>{
                "virtio-blk-device,drive=disk0,werror=report,rerror=report",
                "virtio-blk-device,drive=disk1,werror=report,rerror=report",
                "virtio-blk-device,drive=disk2,werror=report,rerror=report"}));
}

TEST_F(CommandLineTest, AutomaticCachingUsesThePageCacheAndFullSyncHonoursFlushes) {
  DiskImage disk;
  disk.path = scratch_.file("disk.img");
  disk.caching = CachingMode::automatic;
  disk.sync = SyncMode::full;
  auto builder = linux_builder();
  builder.disk(disk);
  const auto node = json::parse(values_of(argv(builder), "-blockdev").at(0));
  EXPECT_EQ(node["cache"]["direct"], false);
  EXPECT_EQ(node["cache"]["no-flush"], false);
}

TEST_F(CommandLineTest, AsifDisksAreUnsupported) {
  DiskImage disk;
  disk.path = scratch_.file("disk.asif");
  disk.format = DiskFormat::asif;
  auto builder = linux_builder();
  builder.disk(disk);
  expect_unsupported(builder, "asif");
}

TEST_F(CommandLineTest, NvmeDiskNeedsPciSoTheMachineIsQ35WithASerial) {
  DiskImage disk;
  disk.path = scratch_.file("disk.img");
  disk.bus = BlockBus::nvme;
  auto builder = linux_builder();
  builder.disk(disk);
  const auto line = command_line(builder);
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->machine, MachineType::q35);
  EXPECT_EQ(values_of(line->argv, "-machine"), std::vector<std::string>{"q35"});
  EXPECT_TRUE(values_of(line->argv, "-global").empty());
  // No TSC hint on q35: it has HPET and the PM timer.
  EXPECT_EQ(values_of(line->argv, "-append"), std::vector<std::string>{"console=ttyS0 quiet"});
  EXPECT_EQ(other_devices(line->argv),
            std::vector<std::string>{"nvme,drive=disk0,serial=vmm-disk0"});
}

TEST_F(CommandLineTest, UsbDisksShareOneXhciController) {
  auto builder = linux_builder();
  for (int i = 0; i < 2; ++i) {
    DiskImage disk;
    disk.path = scratch_.file(fmt::format("disk{}.img", i));
    disk.bus = BlockBus::usb;
    disk.device_id = fmt::format("usb{}", i);
    builder.disk(disk);
  }
  EXPECT_EQ(other_devices(argv(builder)),
            (std::vector<std::string>{"qemu-xhci,id=usb",
                                      "usb-storage,bus=usb.0,drive=disk0,serial=usb0,werror=report,rerror=report",
                                      "usb-storage,bus=usb.0,drive=disk1,serial=usb1,werror=report,rerror=report"}));
}

TEST_F(CommandLineTest, EfiBootUsesOvmfFlashOnQ35WithPciDevices) {
  host_.ovmf_code = "/usr/share/OVMF/OVMF_CODE.fd";
  host_.ovmf_vars = "/usr/share/OVMF/OVMF_VARS.fd";
  EfiBoot efi;
  efi.variable_store = scratch_.path() / "vars,1.fd";
  auto builder = VmConfig::builder();
  builder.cpus(2).memory(Size::gib(1)).efi_boot(efi).disk(scratch_.file("disk.img"));
  const auto line = command_line(builder);
  ASSERT_TRUE(line.has_value()) << line.error().to_string();
  EXPECT_EQ(line->machine, MachineType::q35);
  EXPECT_EQ(values_of(line->argv, "-drive"),
            (std::vector<std::string>{
                "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE.fd",
                "if=pflash,format=raw,unit=1,file=" + (scratch_.path() / "vars,,1.fd").string()}));
  EXPECT_FALSE(has_flag(line->argv, "-kernel"));
  EXPECT_EQ(values_of(line->argv, "-m"), std::vector<std::string>{"1024M"});
  EXPECT_EQ(other_devices(line->argv),
            std::vector<std::string>{"virtio-blk-pci,drive=disk0,werror=report,rerror=report"});
}

TEST_F(CommandLineTest, EfiBootWithoutFirmwareIsUnsupportedNamingThePackage) {
  EfiBoot efi;
  efi.variable_store = scratch_.path() / "vars.fd";
  auto builder = VmConfig::builder();
  builder.cpus(1).memory(Size::mib(256)).efi_boot(efi);
  expect_unsupported(builder, "ovmf");
}

TEST_F(CommandLineTest, NatNetworkIsUserModeWithTheMac) {
  const auto mac = *MacAddress::parse("52:54:00:12:34:56");
  auto builder = linux_builder();
  builder.nat_network(mac);
  const auto a = argv(builder);
  EXPECT_EQ(values_of(a, "-netdev"),
            std::vector<std::string>{"user,id=net0,net=10.0.2.0/24,dhcpstart=10.0.2.15"});
  EXPECT_EQ(other_devices(a),
            std::vector<std::string>{"virtio-net-device,netdev=net0,mac=52:54:00:12:34:56"});
}

TEST_F(CommandLineTest, TapNetworkOpensTheInterfaceByNameWithoutScripts) {
  auto builder = linux_builder();
  builder.network(TapNetwork{"tap,0"}, *MacAddress::parse("52:54:00:12:34:57"));
  const auto a = argv(builder);
  // A comma in the name is doubled: QEMU's option syntax would split there.
  EXPECT_EQ(values_of(a, "-netdev"),
            std::vector<std::string>{"tap,id=net0,ifname=tap,,0,script=no,downscript=no"});
  EXPECT_EQ(other_devices(a),
            std::vector<std::string>{"virtio-net-device,netdev=net0,mac=52:54:00:12:34:57"});
}

TEST_F(CommandLineTest, FileHandleNetworkPassesTheMappedDescriptorWithItsMtu) {
  std::array<int, 2> pair{};
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM, 0, pair.data()), 0);
  auto builder = linux_builder();
  builder.nat_network();
  builder.network(FileHandleNetwork{pair[0], 9000});
  paths_.network_fds = {-1, 5};
  const auto a = argv(builder);
  ::close(pair[0]);
  ::close(pair[1]);
  const auto netdevs = values_of(a, "-netdev");
  ASSERT_EQ(netdevs.size(), 2u);
  const auto netdev = json::parse(netdevs[1]);
  EXPECT_EQ(netdev["type"], "dgram");
  EXPECT_EQ(netdev["id"], "net1");
  EXPECT_EQ(netdev["local"]["type"], "fd");
  EXPECT_EQ(netdev["local"]["str"], "5");
  const auto devices = other_devices(a);
  ASSERT_EQ(devices.size(), 2u);
  EXPECT_EQ(devices[1].rfind("virtio-net-device,netdev=net1,mac=", 0), 0u) << devices[1];
  EXPECT_NE(devices[1].find(",host_mtu=9000"), std::string::npos) << devices[1];
}

TEST_F(CommandLineTest, UnixDatagramNetworkBindsALocalPathAndSendsToThePeer) {
  auto builder = linux_builder();
  builder.network(UnixDatagramNetwork{"/run/peer.sock", 1500});
  paths_.network_local_sockets = {scratch_.path() / "net0.sock"};
  const auto a = argv(builder);
  const auto netdev = json::parse(values_of(a, "-netdev").at(0));
  EXPECT_EQ(netdev["type"], "dgram");
  EXPECT_EQ(netdev["local"]["type"], "unix");
  EXPECT_EQ(netdev["local"]["path"], (scratch_.path() / "net0.sock").string());
  EXPECT_EQ(netdev["remote"]["type"], "unix");
  EXPECT_EQ(netdev["remote"]["path"], "/run/peer.sock");
  EXPECT_NE(other_devices(a).at(0).find(",host_mtu=1500"), std::string::npos);
}

TEST_F(CommandLineTest, BridgedAndVmnetNetworksAreUnsupported) {
  auto bridged = linux_builder();
  bridged.network(BridgedNetwork{"eth0"});
  expect_unsupported(bridged, "bridged");
  auto vmnet = linux_builder();
  vmnet.network(VmnetNetwork{});
  expect_unsupported(vmnet, "vmnet");
}

TEST_F(CommandLineTest, ShareRunsOverVhostUserWithSharedMemory) {
  auto builder = linux_builder();
  builder.share("data", scratch_.dir("shared"));
  paths_.virtiofs_sockets = {scratch_.path() / "fs,0.sock"};
  const auto a = argv(builder);
  EXPECT_EQ(values_of(a, "-machine"),
            std::vector<std::string>{"microvm,acpi=on,memory-backend=mem"});
  EXPECT_EQ(values_of(a, "-object"),
            std::vector<std::string>{"memory-backend-memfd,id=mem,size=256M,share=on"});
  EXPECT_EQ(values_of(a, "-chardev").back(),
            "socket,id=fs0,path=" + (scratch_.path() / "fs,,0.sock").string());
  EXPECT_EQ(other_devices(a),
            std::vector<std::string>{"vhost-user-fs-device,chardev=fs0,tag=data"});
}

TEST_F(CommandLineTest, SharesWithoutVirtiofsdAreUnsupportedNamingIt) {
  host_.virtiofsd.reset();
  auto builder = linux_builder();
  builder.share("data", scratch_.dir("shared"));
  paths_.virtiofs_sockets = {scratch_.path() / "fs0.sock"};
  expect_unsupported(builder, "virtiofsd");
}

TEST_F(CommandLineTest, ReadOnlyAndMultiDirectorySharesAreUnsupported) {
  paths_.virtiofs_sockets = {scratch_.path() / "fs0.sock"};
  auto read_only = linux_builder();
  read_only.share("data", scratch_.dir("ro"), true);
  expect_unsupported(read_only, "read-only");

  VirtiofsShare multi;
  multi.tag = "many";
  multi.source = std::map<std::string, SharedDirectory>{{"a", {scratch_.dir("a"), false}},
                                                        {"b", {scratch_.dir("b"), false}}};
  auto many = linux_builder();
  many.share(multi);
  expect_unsupported(many, "several directories");
}

TEST_F(CommandLineTest, VsockNeedsVhostVsock) {
  auto builder = linux_builder();
  builder.vsock();
  expect_unsupported(builder, "/dev/vhost-vsock");
  host_.vhost_vsock = true;
  paths_.vsock_cid = 42;
  EXPECT_EQ(other_devices(argv(builder)),
            std::vector<std::string>{"vhost-vsock-device,guest-cid=42"});
}

TEST_F(CommandLineTest, EntropyAndBalloonAreVirtioDevices) {
  auto builder = linux_builder();
  builder.entropy().balloon();
  const auto a = argv(builder);
  EXPECT_EQ(values_of(a, "-object"),
            std::vector<std::string>{"rng-random,id=rng0,filename=/dev/urandom"});
  EXPECT_EQ(other_devices(a),
            (std::vector<std::string>{"virtio-rng-device,rng=rng0", "virtio-balloon-device"}));
}

TEST_F(CommandLineTest, RosettaIsUnsupported) {
  auto builder = linux_builder();
  builder.rosetta("rosetta");
  expect_unsupported(builder, "rosetta");
}

TEST_F(CommandLineTest, NestedVirtualizationNeedsKvmWithNesting) {
  auto builder = linux_builder();
  builder.nested_virtualization();
  expect_unsupported(builder, "TCG");
  host_.acceleration = Acceleration::kvm;
  expect_unsupported(builder, "nested=1");
  host_.kvm_nested = true;
  EXPECT_EQ(values_of(argv(builder), "-cpu"), std::vector<std::string>{"host"});
}

TEST_F(CommandLineTest, SavingIsBlockedBySharesAndNvmeDisksOnly) {
  auto plain = linux_builder();
  DiskImage usb;
  usb.path = scratch_.file("usb.img");
  usb.bus = BlockBus::usb;
  plain.disk(scratch_.file("disk.img")).disk(usb).nat_network().entropy().balloon();
  EXPECT_TRUE(check_qemu_save_support(build(plain)));

  auto shared = linux_builder();
  shared.share("data", scratch_.dir("shared"));
  const auto share_blocked = check_qemu_save_support(build(shared));
  ASSERT_FALSE(share_blocked);
  EXPECT_EQ(share_blocked.error().code(), Errc::unsupported);
  EXPECT_NE(share_blocked.error().message().find("shares[0] (data)"), std::string::npos);

  DiskImage nvme;
  nvme.path = scratch_.file("nvme.img");
  nvme.bus = BlockBus::nvme;
  auto with_nvme = linux_builder();
  with_nvme.disk(scratch_.file("disk.img")).disk(nvme);
  const auto nvme_blocked = check_qemu_save_support(build(with_nvme));
  ASSERT_FALSE(nvme_blocked);
  EXPECT_EQ(nvme_blocked.error().code(), Errc::unsupported);
  EXPECT_NE(nvme_blocked.error().message().find("disks[1]"), std::string::npos);
}

TEST(EscapeOptionValue, DoublesCommasOnly) {
  EXPECT_EQ(escape_option_value("a,b,,c=d"), "a,,b,,,,c=d");
  EXPECT_EQ(escape_option_value(""), "");
}

}  // namespace
}  // namespace vmm::qemu
