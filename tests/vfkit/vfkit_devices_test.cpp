// Every bootloader and --device form vfkit accepts: what it becomes, and what is refused.
#include <sys/socket.h>
#include <unistd.h>

#include "vfkit_test_support.hpp"

namespace vmm_test {
namespace {

using vmm::Errc;
using namespace vmm::vfkit;

class VfkitDevices : public testing::Test {
 protected:
  vmm::support::TempDir tmp;
  std::string kernel = tmp.file("vmlinuz").string();
  std::string disk = tmp.file("disk.img", "raw disk").string();
  std::string dir = tmp.dir("share").string();

  vmm::Result<Invocation> with(std::vector<std::string> devices) {
    std::vector<std::string> args{"--bootloader", "linux,kernel=" + kernel};
    for (auto& device : devices) args.insert(args.end(), {"--device", device});
    return parse(args);
  }
};

TEST_F(VfkitDevices, LinuxBootloaderOptionsQuotesAndDuplicates) {
  auto initrd = tmp.file("initrd").string();
  auto parsed = parse({"--bootloader", "linux,kernel=/nope,kernel=" + kernel + ",initrd=" + initrd +
                                           ",,cmdline=\"console=hvc0 a=1,b\""});
  ASSERT_TRUE(Ok(parsed));
  const auto& boot = std::get<vmm::LinuxBoot>(parsed->config->boot());
  EXPECT_EQ(boot.kernel, kernel);  // the last duplicate wins
  EXPECT_EQ(boot.initrd, std::filesystem::path(initrd));
  EXPECT_EQ(boot.command_line, "console=hvc0 a=1,b");
  // --bootloader is a list: a second flag appends to the first.
  auto split = parse({"--bootloader", "linux", "--bootloader", "kernel=" + kernel});
  ASSERT_TRUE(Ok(split));
  EXPECT_EQ(std::get<vmm::LinuxBoot>(split->config->boot()).kernel, kernel);
  EXPECT_TRUE(FailsWith(parse({"--bootloader", "linux,kernel=" + kernel + ",Kernel=x"}),
                        Errc::invalid_config, {"--bootloader linux", "unknown option Kernel"}));
  EXPECT_TRUE(FailsWith(parse({"--bootloader", "linux,cmdline=\"x"}), Errc::invalid_config,
                        {"--bootloader", "mismatched"}));
}

TEST_F(VfkitDevices, EfiBootloader) {
  auto store = (tmp.path() / "efi-vars").string();
  auto parsed = parse({"--bootloader", "efi,variable-store=" + store + ",create"});
  ASSERT_TRUE(Ok(parsed));
  const auto& efi = std::get<vmm::EfiBoot>(parsed->config->boot());
  EXPECT_EQ(efi.variable_store, store);
  EXPECT_TRUE(efi.create_if_missing);
  EXPECT_TRUE(FailsWith(parse({"--bootloader", "efi,variable-store=" + store + ",create=yes"}),
                        Errc::invalid_config, {"--bootloader efi", "create", "yes"}));
  EXPECT_TRUE(FailsWith(parse({"--bootloader", "efi,store=x"}), Errc::invalid_config, {"efi", "store"}));
}

TEST_F(VfkitDevices, MacosAndUnknownBootloaders) {
  EXPECT_TRUE(FailsWith(parse({"--bootloader", "macos,machineIdentifierPath=/x"}), Errc::unsupported,
                        {"--bootloader macos"}));
  EXPECT_TRUE(FailsWith(parse({"--bootloader", "bios"}), Errc::invalid_config, {"unknown bootloader type bios"}));
}

TEST_F(VfkitDevices, DisksOnEachBus) {
  auto parsed = with({"virtio-blk,path=" + disk + ",readonly,deviceId=root", "nvme,path=" + disk + ",type=image",
                      "usb-mass-storage,path=" + disk + ",readonly"});
  ASSERT_TRUE(Ok(parsed));
  const auto& disks = parsed->config->disks();
  ASSERT_EQ(disks.size(), 3u);
  EXPECT_EQ(disks[0].bus, vmm::BlockBus::virtio);
  EXPECT_TRUE(disks[0].read_only);
  EXPECT_EQ(disks[0].device_id, "root");
  EXPECT_EQ(disks[1].bus, vmm::BlockBus::nvme);
  EXPECT_FALSE(disks[1].read_only);
  EXPECT_EQ(disks[2].bus, vmm::BlockBus::usb);
  EXPECT_EQ(disks[2].path, disk);
}

TEST_F(VfkitDevices, DiskRejections) {
  EXPECT_TRUE(FailsWith(with({"virtio-blk,path=" + disk + ",readonly=true"}), Errc::invalid_config,
                        {"virtio-blk", "readonly", "true"}));
  EXPECT_TRUE(FailsWith(with({"virtio-blk,path=" + disk + ",type=lvm"}), Errc::invalid_config, {"type", "lvm"}));
  EXPECT_TRUE(FailsWith(with({"nvme,path=" + disk + ",deviceId=x"}), Errc::invalid_config, {"nvme", "deviceId"}));
  EXPECT_TRUE(FailsWith(with({"virtio-blk"}), Errc::invalid_config, {"virtio-blk", "path"}));
  EXPECT_TRUE(FailsWith(with({"virtio-blk,path=" + disk + ",Path=x"}), Errc::invalid_config, {"unknown option Path"}));
}

TEST_F(VfkitDevices, NetworkForms) {
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM, 0, pair), 0);
  auto parsed = with({"virtio-net,nat,mac=52:54:00:12:34:56", "virtio-net,fd=" + std::to_string(pair[0]),
                      "virtio-net,type=unixgram,path=/tmp/net.sock,vfkitMagic=off,offloading=off"});
  ASSERT_TRUE(Ok(parsed));
  const auto& networks = parsed->config->networks();
  ASSERT_EQ(networks.size(), 3u);
  EXPECT_TRUE(std::holds_alternative<vmm::NatNetwork>(networks[0].attachment));
  EXPECT_EQ(networks[0].mac.to_string(), "52:54:00:12:34:56");
  EXPECT_EQ(std::get<vmm::FileHandleNetwork>(networks[1].attachment).fd, pair[0]);
  ::close(pair[0]);
  ::close(pair[1]);
  EXPECT_EQ(std::get<vmm::UnixDatagramNetwork>(networks[2].attachment).socket, "/tmp/net.sock");
}

TEST_F(VfkitDevices, NetworkRejections) {
  EXPECT_TRUE(FailsWith(with({"virtio-net"}), Errc::invalid_config, {"virtio-net", "needs one of"}));
  EXPECT_TRUE(FailsWith(with({"virtio-net,nat,fd=3"}), Errc::invalid_config, {"only one of"}));
  EXPECT_TRUE(FailsWith(with({"virtio-net,nat=1"}), Errc::invalid_config, {"nat", "1"}));
  EXPECT_TRUE(FailsWith(with({"virtio-net,nat,mac=zz"}), Errc::invalid_config, {"virtio-net: mac"}));
  EXPECT_TRUE(FailsWith(with({"virtio-net,fd=x"}), Errc::invalid_config, {"fd", "\"x\""}));
  EXPECT_TRUE(FailsWith(with({"virtio-net,type=tap,path=/x"}), Errc::invalid_config, {"type tap"}));
  EXPECT_TRUE(FailsWith(with({"virtio-net,type=unixgram"}), Errc::invalid_config, {"type needs path"}));
  EXPECT_TRUE(FailsWith(with({"virtio-net,nat,offloading=off"}), Errc::invalid_config, {"offloading needs type"}));
  EXPECT_TRUE(FailsWith(with({"virtio-net,type=unixgram,path=/x,vfkitMagic=maybe"}), Errc::invalid_config,
                        {"vfkitMagic", "maybe"}));
  // vfkit's magic greeting is on by default with unixSocketPath; vmm does not send it.
  EXPECT_TRUE(FailsWith(with({"virtio-net,unixSocketPath=/tmp/net.sock"}), Errc::unsupported,
                        {"vfkitMagic=on", "vfkitMagic=off"}));
}

TEST_F(VfkitDevices, SharesAndRosetta) {
  auto parsed = with({"virtio-fs,sharedDir=" + dir + ",mountTag=home", "rosetta,mountTag=rosetta"});
  ASSERT_TRUE(Ok(parsed));
  ASSERT_EQ(parsed->config->shares().size(), 1u);
  EXPECT_EQ(parsed->config->shares()[0].tag, "home");
  EXPECT_EQ(std::get<vmm::SharedDirectory>(parsed->config->shares()[0].source).directory, dir);
  EXPECT_EQ(parsed->config->rosetta_tag(), "rosetta");
  EXPECT_TRUE(FailsWith(with({"virtio-fs,mountTag=x"}), Errc::invalid_config, {"virtio-fs", "sharedDir"}));
  EXPECT_TRUE(FailsWith(with({"virtio-fs,sharedDir=" + dir + ",tag=x"}), Errc::invalid_config, {"unknown option tag"}));
  EXPECT_TRUE(FailsWith(with({"rosetta,mountTag=r,install"}), Errc::unsupported, {"rosetta,install"}));
  EXPECT_TRUE(FailsWith(with({"rosetta,mountTag=r,ignore-if-missing"}), Errc::unsupported, {"ignore-if-missing"}));
}

TEST_F(VfkitDevices, VsockExposures) {
  auto parsed = with({"virtio-vsock,port=1025,socketURL=/tmp/a.sock", "virtio-vsock,port=7,socketURL=/tmp/b.sock,connect",
                      "virtio-vsock"});
  ASSERT_TRUE(Ok(parsed));
  EXPECT_TRUE(parsed->config->vsock());
  const auto& exposures = parsed->settings.vsock_exposures;
  ASSERT_EQ(exposures.size(), 2u);
  EXPECT_EQ(exposures[0], (VsockExposure{1025, "/tmp/a.sock", true}));  // listen by default
  EXPECT_EQ(exposures[1], (VsockExposure{7, "/tmp/b.sock", false}));
  EXPECT_TRUE(FailsWith(with({"virtio-vsock,port=x"}), Errc::invalid_config, {"virtio-vsock: port", "\"x\""}));
  EXPECT_TRUE(FailsWith(with({"virtio-vsock,socketURL=/tmp/a"}), Errc::invalid_config, {"socketURL=/tmp/a", "port"}));
  EXPECT_TRUE(FailsWith(with({"virtio-vsock,cid=3"}), Errc::invalid_config, {"virtio-vsock", "cid"}));
}

TEST_F(VfkitDevices, SerialForms) {
  auto log = (tmp.path() / "console.log").string();
  auto file = with({"virtio-serial,logFilePath=" + log});
  ASSERT_TRUE(Ok(file));
  EXPECT_EQ(std::get<vmm::SerialToFile>(file->config->serial()), (vmm::SerialToFile{log, false}));
  auto stdio = with({"virtio-serial,stdio"});
  ASSERT_TRUE(Ok(stdio));
  EXPECT_EQ(std::get<vmm::SerialToFd>(stdio->config->serial()).fd, STDOUT_FILENO);
  EXPECT_TRUE(FailsWith(with({"virtio-serial,pty"}), Errc::unsupported, {"virtio-serial,pty"}));
  EXPECT_TRUE(FailsWith(with({"virtio-serial"}), Errc::invalid_config, {"virtio-serial", "needs one of"}));
  EXPECT_TRUE(FailsWith(with({"virtio-serial,stdio,logFilePath=" + log}), Errc::invalid_config, {"only one of"}));
  EXPECT_TRUE(FailsWith(with({"virtio-serial,stdio=yes"}), Errc::invalid_config, {"stdio", "yes"}));
}

TEST_F(VfkitDevices, RngBalloonAndOptionlessDevices) {
  auto parsed = with({"virtio-rng", "virtio-balloon"});
  ASSERT_TRUE(Ok(parsed));
  EXPECT_TRUE(parsed->config->entropy());
  EXPECT_TRUE(parsed->config->balloon());
  EXPECT_TRUE(FailsWith(with({"virtio-rng,fast"}), Errc::invalid_config, {"virtio-rng", "fast"}));
  EXPECT_TRUE(FailsWith(with({"virtio-balloon,size=1"}), Errc::invalid_config, {"virtio-balloon", "size"}));
}

TEST_F(VfkitDevices, FormsVmmCannotRunAreUnsupportedByName) {
  EXPECT_TRUE(FailsWith(with({"virtio-gpu,width=800,height=600"}), Errc::unsupported, {"virtio-gpu"}));
  EXPECT_TRUE(FailsWith(with({"virtio-input,keyboard"}), Errc::unsupported, {"virtio-input"}));
  EXPECT_TRUE(FailsWith(with({"nbd,uri=nbd://host/export"}), Errc::unsupported, {"nbd"}));
  EXPECT_TRUE(FailsWith(with({"virtio-sound"}), Errc::invalid_config, {"unknown device type virtio-sound"}));
  EXPECT_TRUE(FailsWith(with({""}), Errc::invalid_config, {"unknown device type"}));
}

TEST_F(VfkitDevices, EmptyOptionsAreSkippedAndKeysAreCaseSensitive) {
  auto parsed = with({"virtio-blk,,path=" + disk + ",,"});
  ASSERT_TRUE(Ok(parsed));
  EXPECT_EQ(parsed->config->disks().size(), 1u);
  EXPECT_TRUE(FailsWith(with({"virtio-blk,PATH=" + disk}), Errc::invalid_config, {"unknown option PATH"}));
  EXPECT_TRUE(FailsWith(with({"Virtio-blk,path=" + disk}), Errc::invalid_config, {"unknown device type Virtio-blk"}));
}

}  // namespace
}  // namespace vmm_test
