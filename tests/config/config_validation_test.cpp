// Every rule of src/config/validation.cpp, through VmConfigBuilder::build(): the bad value is
// rejected with invalid_config and a message that starts with the field and quotes the value;
// the boundary values next to it are accepted.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <array>
#include <string>

#include "config/access.hpp"
#include "config/validation.hpp"
#include "config/test_support.hpp"
#include "vmm/config.hpp"

namespace {

using namespace vmm;
using testing::HasSubstr;
using vmm_test::IsInvalid;
using vmm_test::disk_at;
using vmm_test::IsOk;
using vmm_test::TempDir;
namespace fs = std::filesystem;

const MacAddress kMacA({0x52, 0x54, 0x00, 0x00, 0x00, 0x01});
const MacAddress kMacB({0x52, 0x54, 0x00, 0x00, 0x00, 0x02});

// A descriptor number that is not open: opened, then closed.
int closed_fd() {
  int fds[2];
  if (::pipe(fds) != 0) return -1;
  ::close(fds[0]);
  ::close(fds[1]);
  return fds[0];
}

// Both ends of a socketpair, closed with the test.
struct SocketPair {
  explicit SocketPair(int type) {
    if (::socketpair(AF_UNIX, type, 0, fds.data()) != 0) fds = {-1, -1};
  }
  ~SocketPair() {
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
  }
  std::array<int, 2> fds{-1, -1};
};

class ValidationTest : public testing::Test {
 protected:
  // A builder that builds: every test adds the one bad (or boundary) value to it.
  VmConfigBuilder valid() const { return VmConfig::builder().linux_boot(kernel_); }
  Result<VmConfig> with_network(NetworkAttachment attachment) const {
    return valid().nat_network().network(std::move(attachment)).build();
  }
  Result<VmConfig> with_disk(DiskImage disk) const {
    return valid().disk(image_).disk(std::move(disk)).build();
  }

  TempDir temp_;
  fs::path kernel_ = temp_.file("vmlinuz", "kernel");
  fs::path image_ = temp_.file("root.img", "disk");
};

// ---- cpus and memory -------------------------------------------------------------------------

TEST_F(ValidationTest, Cpus) {
  EXPECT_TRUE(IsInvalid(valid().cpus(0).build(), "cpus", "0 is below the minimum of 1"));
  EXPECT_TRUE(IsInvalid(valid().cpus(256).build(), "cpus", "256 is above the maximum of 255"));
  EXPECT_TRUE(IsOk(valid().cpus(1).build()));
  EXPECT_TRUE(IsOk(valid().cpus(255).build()));
}

TEST_F(ValidationTest, Memory) {
  EXPECT_TRUE(IsInvalid(valid().memory(Size::mib(64)).build(), "memory",
                        "64MiB is below the minimum of 128MiB"));
  EXPECT_TRUE(IsInvalid(valid().memory(Size::mib(127)).build(), "memory", "127MiB is below"));
  EXPECT_TRUE(IsInvalid(valid().memory(Size::bytes(Size::gib(1).as_bytes() + 1)).build(), "memory",
                        "1073741825B is not a whole number of MiB"));
  EXPECT_TRUE(IsInvalid(valid().memory(Size::kib(128 * 1024 + 512)).build(), "memory",
                        "131584KiB is not a whole number of MiB"));
  EXPECT_TRUE(IsOk(valid().memory(Size::mib(128)).build()));
  EXPECT_TRUE(IsOk(valid().memory(Size::mib(1025)).build()));
}

TEST_F(ValidationTest, ReportsTheFirstBrokenRule) {
  EXPECT_TRUE(IsInvalid(VmConfig::builder().cpus(0).memory(Size::mib(1)).build(), "cpus", "0"));
  EXPECT_TRUE(IsInvalid(VmConfig::builder().memory(Size::mib(1)).build(), "memory", "1MiB"));
}

// ---- boot --------------------------------------------------------------------------------------

TEST_F(ValidationTest, NoBoot) {
  EXPECT_TRUE(IsInvalid(VmConfig::builder().build(), "boot", "no boot loader given"));
}

TEST_F(ValidationTest, KernelEmptyMissingOrADirectory) {
  EXPECT_TRUE(IsInvalid(VmConfig::builder().linux_boot("").build(), "boot.kernel",
                        "no kernel path given"));
  const auto missing = temp_.path() / "no-such-kernel";
  EXPECT_TRUE(IsInvalid(VmConfig::builder().linux_boot(missing).build(), "boot.kernel",
                        missing.string() + " does not exist"));
  const auto directory = temp_.dir("kernel-dir");
  EXPECT_TRUE(IsInvalid(VmConfig::builder().linux_boot(directory).build(), "boot.kernel",
                        directory.string() + " is not a regular file"));
  EXPECT_TRUE(IsInvalid(VmConfig::builder().linux_boot("/dev/null").build(), "boot.kernel",
                        "/dev/null is not a regular file"));
}

TEST_F(ValidationTest, KernelUnreadable) {
  if (vmm_test::running_as_root())
    GTEST_SKIP() << "running as root: access(R_OK) succeeds on a mode-000 file";
  const auto kernel = temp_.file("locked-kernel");
  fs::permissions(kernel, fs::perms::none);
  EXPECT_TRUE(IsInvalid(VmConfig::builder().linux_boot(kernel).build(), "boot.kernel",
                        kernel.string() + " is not readable"));
}

TEST_F(ValidationTest, Initrd) {
  const auto missing = temp_.path() / "no-such-initrd";
  EXPECT_TRUE(IsInvalid(VmConfig::builder().linux_boot(kernel_, missing).build(), "boot.initrd",
                        missing.string() + " does not exist"));
  EXPECT_TRUE(IsInvalid(VmConfig::builder().linux_boot(kernel_, fs::path()).build(), "boot.initrd",
                        "no path given"));
  const auto directory = temp_.dir("initrd-dir");
  EXPECT_TRUE(IsInvalid(VmConfig::builder().linux_boot(kernel_, directory).build(), "boot.initrd",
                        directory.string() + " is not a regular file"));
  EXPECT_TRUE(IsOk(VmConfig::builder().linux_boot(kernel_, temp_.file("initrd")).build()));
}

TEST_F(ValidationTest, EmptyCommandLineFragment) {
  EXPECT_TRUE(IsInvalid(valid().kernel_command_line_fragment("quiet").kernel_command_line_fragment("").build(),
                        "boot.extra_command_line[1]", "empty fragment"));
  // Fragments given in the LinuxBoot come first in the numbering.
  EXPECT_TRUE(IsInvalid(VmConfig::builder()
                            .linux_boot(LinuxBoot{kernel_, {}, "", {"a", "b"}})
                            .kernel_command_line_fragment("")
                            .build(),
                        "boot.extra_command_line[2]", "empty fragment"));
  EXPECT_TRUE(IsInvalid(VmConfig::builder().linux_boot(LinuxBoot{kernel_, {}, "", {""}}).build(),
                        "boot.extra_command_line[0]", "empty fragment"));
}

TEST_F(ValidationTest, FragmentsNeedALinuxBoot) {
  EXPECT_TRUE(IsInvalid(VmConfig::builder()
                            .efi_boot(EfiBoot{temp_.path() / "nvram", true})
                            .kernel_command_line_fragment("quiet")
                            .build(),
                        "boot.extra_command_line", "need a Linux boot"));
}

TEST_F(ValidationTest, EfiVariableStore) {
  const auto efi = [](EfiBoot boot) { return VmConfig::builder().efi_boot(std::move(boot)).build(); };
  EXPECT_TRUE(IsInvalid(efi(EfiBoot{"", true}), "boot.variable_store", "no path given"));
  const auto missing = temp_.path() / "nvram.bin";
  EXPECT_TRUE(IsInvalid(efi(EfiBoot{missing, false}), "boot.variable_store",
                        missing.string() + " does not exist and create_if_missing is false"));
  const auto in_missing_dir = temp_.path() / "no-such-dir" / "nvram.bin";
  EXPECT_TRUE(IsInvalid(efi(EfiBoot{in_missing_dir, true}), "boot.variable_store",
                        "directory " + (temp_.path() / "no-such-dir").string() + " does not exist"));
  const auto directory = temp_.dir("nvram-dir");
  EXPECT_TRUE(IsInvalid(efi(EfiBoot{directory, true}), "boot.variable_store",
                        directory.string() + " is not a regular file"));
  // Accepted: to be created in an existing directory, or an existing writable file.
  EXPECT_TRUE(IsOk(efi(EfiBoot{missing, true})));
  EXPECT_TRUE(IsOk(efi(EfiBoot{temp_.file("existing-nvram"), false})));
}

TEST_F(ValidationTest, EfiVariableStoreNotWritable) {
  if (vmm_test::running_as_root())
    GTEST_SKIP() << "running as root: access(W_OK) succeeds on a read-only file";
  const auto store = temp_.file("ro-nvram");
  fs::permissions(store, fs::perms::owner_read);
  EXPECT_TRUE(IsInvalid(VmConfig::builder().efi_boot(EfiBoot{store, false}).build(),
                        "boot.variable_store", store.string() + " is not writable"));
}

// ---- networks ----------------------------------------------------------------------------------

TEST_F(ValidationTest, AtMostEightNetworks) {
  auto builder = valid();
  for (int i = 0; i < 8; ++i) builder.nat_network();
  EXPECT_TRUE(IsOk(builder.build()));
  builder.nat_network();
  EXPECT_TRUE(IsInvalid(builder.build(), "networks", "9 networks given, at most 8"));
}

TEST_F(ValidationTest, MacCountMustMatchNetworks) {
  EXPECT_TRUE(IsInvalid(valid().nat_network().nat_network().macs({kMacA}).build(), "macs",
                        "1 MAC addresses given for 2 networks"));
  EXPECT_TRUE(IsInvalid(valid().macs({kMacA}).build(), "macs", "1 MAC addresses given for 0 networks"));
  EXPECT_TRUE(IsOk(valid().nat_network().nat_network().macs({kMacA, kMacB}).build()));
}

TEST_F(ValidationTest, MulticastMac) {
  const MacAddress multicast({0x01, 0x00, 0x5e, 0x00, 0x00, 0x01});
  EXPECT_TRUE(IsInvalid(valid().nat_network().nat_network(multicast).build(), "networks[1].mac",
                        "01:00:5e:00:00:01 is a multicast address"));
  EXPECT_TRUE(IsInvalid(valid().nat_network().macs({multicast}).build(), "networks[0].mac",
                        "01:00:5e:00:00:01 is a multicast address"));
}

TEST_F(ValidationTest, ZeroMac) {
  EXPECT_TRUE(IsInvalid(valid().nat_network(MacAddress()).build(), "networks[0].mac",
                        "00:00:00:00:00:00 is not usable"));
}

TEST_F(ValidationTest, DuplicateMacsNameBothNetworks) {
  EXPECT_TRUE(IsInvalid(valid().nat_network(kMacA).nat_network(kMacB).nat_network(kMacA).build(),
                        "networks[2].mac", "52:54:00:00:00:01 is already used by networks[0]"));
  EXPECT_TRUE(IsInvalid(valid().nat_network().nat_network().macs({kMacB, kMacB}).build(),
                        "networks[1].mac", "52:54:00:00:00:02 is already used by networks[0]"));
  // A per-network MAC that macs() replaces does not count.
  EXPECT_TRUE(IsOk(valid().nat_network(kMacA).nat_network(kMacA).macs({kMacA, kMacB}).build()));
}

TEST_F(ValidationTest, BridgedNeedsAnInterface) {
  EXPECT_TRUE(IsInvalid(with_network(BridgedNetwork{""}), "networks[1].interface",
                        "no host interface named"));
  EXPECT_TRUE(IsOk(with_network(BridgedNetwork{"en0"})));
}

TEST_F(ValidationTest, FileHandleDescriptor) {
  EXPECT_TRUE(IsInvalid(with_network(FileHandleNetwork{-1, 1500}), "networks[1].fd",
                        "-1 is not a file descriptor"));
  const int closed = closed_fd();
  ASSERT_EQ(::fcntl(closed, F_GETFD), -1);
  EXPECT_TRUE(IsInvalid(with_network(FileHandleNetwork{closed, 1500}), "networks[1].fd",
                        "descriptor " + std::to_string(closed) + " is not open"));
  const SocketPair stream(SOCK_STREAM);
  ASSERT_GE(stream.fds[0], 0);
  EXPECT_TRUE(IsInvalid(with_network(FileHandleNetwork{stream.fds[0], 1500}), "networks[1].fd",
                        "descriptor " + std::to_string(stream.fds[0]) + " is not a datagram socket"));
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  EXPECT_TRUE(IsInvalid(with_network(FileHandleNetwork{pipe_fds[0], 1500}), "networks[1].fd",
                        "descriptor " + std::to_string(pipe_fds[0]) + " is not a datagram socket"));
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  const SocketPair datagram(SOCK_DGRAM);
  ASSERT_GE(datagram.fds[0], 0);
  EXPECT_TRUE(IsOk(with_network(FileHandleNetwork{datagram.fds[0], 1500})));
}

TEST_F(ValidationTest, FileHandleMtu) {
  const SocketPair datagram(SOCK_DGRAM);
  ASSERT_GE(datagram.fds[0], 0);
  const int fd = datagram.fds[0];
  EXPECT_TRUE(IsInvalid(with_network(FileHandleNetwork{fd, 1499}), "networks[1].mtu",
                        "1499 is outside 1500..65535"));
  EXPECT_TRUE(IsInvalid(with_network(FileHandleNetwork{fd, 65536}), "networks[1].mtu",
                        "65536 is outside 1500..65535"));
  EXPECT_TRUE(IsInvalid(with_network(FileHandleNetwork{fd, 0}), "networks[1].mtu", "0 is outside"));
  EXPECT_TRUE(IsOk(with_network(FileHandleNetwork{fd, 1500})));
  EXPECT_TRUE(IsOk(with_network(FileHandleNetwork{fd, 65535})));
}

TEST_F(ValidationTest, TapInterfaceName) {
  EXPECT_TRUE(IsInvalid(with_network(TapNetwork{""}), "networks[1].ifname", "no interface named"));
  EXPECT_TRUE(IsOk(with_network(TapNetwork{std::string(15, 't')})));
  EXPECT_TRUE(IsInvalid(with_network(TapNetwork{std::string(16, 't')}), "networks[1].ifname",
                        "is 16 bytes; interface names have at most 15"));
  for (const char* bad : {"a/b", "a:b", "a b", "tab\t"}) {
    EXPECT_TRUE(IsInvalid(with_network(TapNetwork{bad}), "networks[1].ifname",
                          "has a character interface names cannot have"))
        << bad;
  }
  EXPECT_TRUE(IsInvalid(with_network(TapNetwork{".."}), "networks[1].ifname",
                        "is not an interface name"));
  EXPECT_TRUE(IsOk(with_network(TapNetwork{"vmm-tap.0"})));
}

TEST_F(ValidationTest, UnixDatagram) {
  EXPECT_TRUE(IsInvalid(with_network(UnixDatagramNetwork{"", 1500}), "networks[1].socket",
                        "no socket path given"));
  const std::string longest = "/tmp/" + std::string(98, 's');  // 103 bytes
  ASSERT_EQ(longest.size(), 103u);
  EXPECT_TRUE(IsOk(with_network(UnixDatagramNetwork{longest, 1500})));
  const std::string too_long = longest + "x";
  EXPECT_TRUE(IsInvalid(with_network(UnixDatagramNetwork{too_long, 1500}), "networks[1].socket",
                        too_long + " is 104 bytes, longer than a unix socket address allows (103)"));
  EXPECT_TRUE(IsInvalid(with_network(UnixDatagramNetwork{"/tmp/s", 1499}), "networks[1].mtu",
                        "1499 is outside 1500..65535"));
  EXPECT_TRUE(IsInvalid(with_network(UnixDatagramNetwork{"/tmp/s", 65536}), "networks[1].mtu",
                        "65536 is outside 1500..65535"));
  EXPECT_TRUE(IsOk(with_network(UnixDatagramNetwork{"/tmp/s", 65535})));
}

TEST_F(ValidationTest, VmnetSubnetsAccepted) {
  EXPECT_TRUE(IsOk(with_network(VmnetNetwork{})));
  for (const std::string subnet : {"192.168.105.0/24", "10.0.0.0/8", "172.16.0.0/12",
                                   "192.168.1.252/30", "255.255.255.0/24"})
    EXPECT_TRUE(IsOk(with_network(VmnetNetwork{subnet}))) << subnet;
}

TEST_F(ValidationTest, VmnetSubnetsRejected) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"192.168.105.1/24", "host bits are set"},
      {"10.0.0.128/24", "host bits are set"},
      {"300.1.1.0/24", "an octet is above 255"},
      {"10.0.0.0", "no prefix length"},
      {"10.0.0.0/33", "between 8 and 30"},
      {"10.0.0.0/31", "between 8 and 30"},
      {"10.0.0.0/7", "between 8 and 30"},
      {"10.0.0.0/", "malformed prefix length"},
      {"10.0.0.0/2a", "malformed prefix length"},
      {"10.0.0.0/100", "malformed prefix length"},
      {"a.b.c.d/8", "malformed address"},
      {"10.0.0/24", "malformed address"},
      {"10.0.0.0.0/24", "malformed address"},
      {"10..0.0/24", "malformed address"},
      {"1000.0.0.0/8", "malformed address"},
      {"/24", "malformed address"},
      {"", "no prefix length"},
      {"010.0.0.0/8", "leading zero"},
      {"10.0.00.0/24", "leading zero"},
  };
  for (const auto& [subnet, why] : cases) {
    const auto config = with_network(VmnetNetwork{subnet});
    EXPECT_TRUE(IsInvalid(config, "networks[1].subnet", "\"" + subnet + "\" is not an IPv4 subnet"))
        << subnet;
    if (!config) {
      EXPECT_THAT(config.error().message(), HasSubstr(why)) << subnet;
    }
  }
}

TEST_F(ValidationTest, Ipv4SubnetCheckIsReusable) {
  EXPECT_TRUE(IsOk(detail::check_ipv4_subnet("plan.subnet", "192.168.105.0/24")));
  EXPECT_TRUE(IsInvalid(detail::check_ipv4_subnet("plan.subnet", "192.168.105.1/24"), "plan.subnet",
                        "\"192.168.105.1/24\""));
}

// ---- shares ------------------------------------------------------------------------------------

TEST_F(ValidationTest, ShareTagLength) {
  const auto dir = temp_.dir("share");
  EXPECT_TRUE(IsInvalid(valid().share("", dir).build(), "shares[0].tag", "empty tag"));
  const std::string tag36(36, 't');
  EXPECT_TRUE(IsOk(valid().share(tag36, dir).build()));
  const std::string tag37(37, 't');
  EXPECT_TRUE(IsInvalid(valid().share("ok", dir).share(tag37, dir).build(), "shares[1].tag",
                        "\"" + tag37 + "\" is 37 bytes of UTF-8, at most 36 are allowed"));
}

TEST_F(ValidationTest, ShareTagIsCountedInBytes) {
  const auto dir = temp_.dir("share");
  std::string e_acute18;
  for (int i = 0; i < 18; ++i) e_acute18 += "\xC3\xA9";  // 18 characters, 36 bytes
  EXPECT_TRUE(IsOk(valid().share(e_acute18, dir).build()));
  const std::string e_acute19 = e_acute18 + "\xC3\xA9";  // 19 characters, 38 bytes
  EXPECT_TRUE(IsInvalid(valid().share(e_acute19, dir).build(), "shares[0].tag",
                        "\"" + e_acute19 + "\" is 38 bytes"));
  std::string emoji9;
  for (int i = 0; i < 9; ++i) emoji9 += "\xF0\x9F\x93\x81";  // 9 characters, 36 bytes
  EXPECT_TRUE(IsOk(valid().share(emoji9, dir).build()));
  EXPECT_TRUE(IsInvalid(valid().share(emoji9 + "x", dir).build(), "shares[0].tag", "37 bytes"));
}

TEST_F(ValidationTest, ShareTagMustBeUtf8) {
  const auto dir = temp_.dir("share");
  for (const std::string tag : {"\xff", "ab\xC3", "\x80x", "a\xE2\x82", "\xF8\x88\x80\x80\x80",
                                "\xC3\x28"}) {
    EXPECT_TRUE(IsInvalid(valid().share(tag, dir).build(), "shares[0].tag", "not valid UTF-8"));
  }
}

// Overlong encodings, UTF-16 surrogates and code points above U+10FFFF are not UTF-8 either
// (RFC 3629); a tag holding one builds, and then VmConfig::to_json() throws on it.
TEST_F(ValidationTest, ShareTagRejectsOverlongSurrogateAndOutOfRangeUtf8) {
  const auto dir = temp_.dir("share");
  for (const std::string tag : {"\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80"}) {
    std::string hex;
    for (unsigned char c : tag) hex += fmt::format("\\x{:02X}", c);
    EXPECT_TRUE(IsInvalid(valid().share(tag, dir).build(), "shares[0].tag", "not valid UTF-8"))
        << "tag " << hex;
  }
}

TEST_F(ValidationTest, DuplicateTags) {
  const auto dir = temp_.dir("share");
  EXPECT_TRUE(IsInvalid(valid().share("data", dir).share("home", dir).share("data", dir).build(),
                        "shares[2].tag", "\"data\" is already used by shares[0]"));
  EXPECT_TRUE(IsInvalid(valid().share("data", dir).rosetta("data").build(), "rosetta_tag",
                        "\"data\" is already used by shares[0]"));
  EXPECT_TRUE(IsOk(valid().share("data", dir).rosetta("rosetta").build()));
}

TEST_F(ValidationTest, RosettaTag) {
  EXPECT_TRUE(IsInvalid(valid().rosetta("").build(), "rosetta_tag", "empty tag"));
  const std::string tag37(37, 'r');
  EXPECT_TRUE(IsInvalid(valid().rosetta(tag37).build(), "rosetta_tag", "\"" + tag37 + "\" is 37 bytes"));
  EXPECT_TRUE(IsInvalid(valid().rosetta("\xff").build(), "rosetta_tag", "not valid UTF-8"));
}

TEST_F(ValidationTest, ShareDirectory) {
  const auto missing = temp_.path() / "no-such-dir";
  EXPECT_TRUE(IsInvalid(valid().share("t", missing).build(), "shares[0].directory",
                        missing.string() + " does not exist"));
  const auto file = temp_.file("a-file");
  EXPECT_TRUE(IsInvalid(valid().share("t", file).build(), "shares[0].directory",
                        file.string() + " is not a directory"));
  EXPECT_TRUE(IsInvalid(valid().share("t", "").build(), "shares[0].directory", "no directory given"));
}

TEST_F(ValidationTest, MultiDirectoryShare) {
  using Dirs = std::map<std::string, SharedDirectory>;
  const auto multi = [&](Dirs dirs) {
    return valid().share(VirtiofsShare{"multi", std::move(dirs)}).build();
  };
  const auto a = temp_.dir("a");
  const auto b = temp_.dir("b");
  EXPECT_TRUE(IsOk(multi({{"a", {a, false}}, {"b", {b, true}}})));
  EXPECT_TRUE(IsInvalid(multi({}), "shares[0].directories", "no directories given"));
  using namespace std::string_literals;
  for (const std::string& name : {"a/b"s, ".."s, "."s, ""s, "/"s, "a\0b"s, "\xff"s}) {
    EXPECT_TRUE(IsInvalid(multi({{"a", {a, false}}, {name, {b, false}}}),
                          "shares[0].directories[\"" + name + "\"]", "a single path component"))
        << name;
  }
  const auto missing = temp_.path() / "missing";
  EXPECT_TRUE(IsInvalid(multi({{"a", {a, false}}, {"docs", {missing, false}}}),
                        "shares[0].directories[\"docs\"]", missing.string() + " does not exist"));
  EXPECT_TRUE(IsInvalid(multi({{"docs", {"", false}}}), "shares[0].directories[\"docs\"]",
                        "no directory given"));
}

// ---- disks -------------------------------------------------------------------------------------

TEST_F(ValidationTest, AtMost63Disks) {
  auto builder = valid();
  for (int i = 0; i < 63; ++i) builder.disk(image_, true);
  EXPECT_TRUE(IsOk(builder.build()));
  builder.disk(image_, true);
  EXPECT_TRUE(IsInvalid(builder.build(), "disks", "64 block devices given, at most 63"));
}

TEST_F(ValidationTest, DiskPath) {
  const auto missing = temp_.path() / "missing.img";
  EXPECT_TRUE(IsInvalid(with_disk(disk_at(missing)), "disks[1].path", missing.string() + " does not exist"));
  const auto directory = temp_.dir("disk-dir");
  EXPECT_TRUE(IsInvalid(with_disk(disk_at(directory)), "disks[1].path",
                        directory.string() + " is not a regular file or block device"));
  EXPECT_TRUE(IsInvalid(with_disk(disk_at("/dev/null")), "disks[1].path",
                        "/dev/null is not a regular file or block device"));
  EXPECT_TRUE(IsInvalid(with_disk(disk_at("")), "disks[1].path", "no path given"));
}

TEST_F(ValidationTest, ReadWriteDiskMustBeWritable) {
  const auto image = temp_.file("ro.img");
  fs::permissions(image, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  DiskImage read_only = disk_at(image);
  read_only.read_only = true;
  EXPECT_TRUE(IsOk(with_disk(read_only)));
  if (vmm_test::running_as_root())
    GTEST_SKIP() << "running as root: access(W_OK) succeeds on a mode-0444 file";
  EXPECT_TRUE(IsInvalid(with_disk(disk_at(image)), "disks[1].path",
                        image.string() + " is not writable"));
}

TEST_F(ValidationTest, DeviceId) {
  const auto with_id = [&](std::string id) {
    DiskImage disk = disk_at(image_);
    disk.device_id = std::move(id);
    return with_disk(disk);
  };
  EXPECT_TRUE(IsOk(with_id(std::string(20, 'd'))));
  EXPECT_TRUE(IsOk(with_id(" !~serial-0")));
  const std::string id21(21, 'd');
  EXPECT_TRUE(IsInvalid(with_id(id21), "disks[1].device_id", "\"" + id21 + "\" is 21 bytes, at most 20"));
  EXPECT_TRUE(IsInvalid(with_id(""), "disks[1].device_id", "empty identifier"));
  for (const std::string id : {"disk-\xC3\xA9", "a\tb", "a\nb", "del\x7F"}) {
    EXPECT_TRUE(IsInvalid(with_id(id), "disks[1].device_id",
                          "\"" + id + "\" has a character that is not printable ASCII"));
  }
  // 10 two-byte characters: 20 bytes, but not ASCII.
  std::string wide;
  for (int i = 0; i < 10; ++i) wide += "\xC3\xA9";
  EXPECT_TRUE(IsInvalid(with_id(wide), "disks[1].device_id", "not printable ASCII"));
}

// ---- serial, single devices, identifier ----------------------------------------------------------

TEST_F(ValidationTest, SerialFile) {
  const auto missing_dir = temp_.path() / "no-such-dir";
  const auto log = missing_dir / "serial.log";
  EXPECT_TRUE(IsInvalid(valid().serial(SerialToFile{log, true}).build(), "serial.path",
                        log.string() + ": directory " + missing_dir.string() + " does not exist"));
  EXPECT_TRUE(IsInvalid(valid().serial(SerialToFile{"", true}).build(), "serial.path", "no path given"));
  EXPECT_TRUE(IsOk(valid().serial(SerialToFile{temp_.path() / "serial.log", true}).build()));
  EXPECT_TRUE(IsOk(valid().serial(SerialToFile{temp_.file("existing.log"), true}).build()));
}

// An existing path must be a file the VM can write to, as for the EFI variable store; a
// directory passes the "its directory exists" rule today and fails only when the VM starts.
TEST_F(ValidationTest, SerialFileThatIsADirectory) {
  const auto directory = temp_.dir("serial-dir");
  EXPECT_TRUE(IsInvalid(valid().serial(SerialToFile{directory, true}).build(), "serial.path",
                        directory.string()));
}

TEST_F(ValidationTest, SerialFd) {
  EXPECT_TRUE(IsInvalid(valid().serial(SerialToFd{-1}).build(), "serial.fd", "-1 is not a file descriptor"));
  const int closed = closed_fd();
  ASSERT_EQ(::fcntl(closed, F_GETFD), -1);
  EXPECT_TRUE(IsInvalid(valid().serial(SerialToFd{closed}).build(), "serial.fd",
                        "descriptor " + std::to_string(closed) + " is not open"));
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  EXPECT_TRUE(IsOk(valid().serial(SerialToFd{fds[1]}).build()));
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_F(ValidationTest, AtMostOneVsockAndOneBalloon) {
  EXPECT_TRUE(IsOk(valid().vsock().balloon().build()));
  EXPECT_TRUE(IsInvalid(valid().vsock().vsock().build(), "vsock", "2 vsock devices given, at most 1"));
  EXPECT_TRUE(IsInvalid(valid().balloon().balloon().build(), "balloon",
                        "2 memory balloons given, at most 1"));
}

TEST_F(ValidationTest, EmptyMachineIdentifier) {
  EXPECT_TRUE(IsInvalid(valid().machine_identifier({}).build(), "machine_identifier", "empty identifier"));
  EXPECT_TRUE(IsOk(valid().machine_identifier({0}).build()));
}

// ---- without host checks (configs read back from a snapshot manifest) ----------------------------

TEST_F(ValidationTest, WithoutHostChecksOnlyTheValuesAreChecked) {
  const auto missing = temp_.path() / "gone";
  auto builder = VmConfig::builder()
                     .linux_boot(missing, missing / "initrd")
                     .disk(missing / "disk.img")
                     .share("t", missing)
                     .serial(SerialToFd{closed_fd()})
                     .network(FileHandleNetwork{closed_fd(), 1500});
  EXPECT_FALSE(builder.build());
  EXPECT_TRUE(IsOk(ConfigAccess::build_without_host_checks(builder)));

  EXPECT_TRUE(IsInvalid(ConfigAccess::build_without_host_checks(VmConfig::builder().linux_boot("")),
                        "boot.kernel", "no kernel path given"));
  EXPECT_TRUE(IsInvalid(ConfigAccess::build_without_host_checks(
                            VmConfig::builder().linux_boot(missing, fs::path())),
                        "boot.initrd", "no path given"));
  EXPECT_TRUE(IsInvalid(ConfigAccess::build_without_host_checks(
                            VmConfig::builder().linux_boot(missing).serial(SerialToFd{-1})),
                        "serial.fd", "-1 is not a file descriptor"));
  EXPECT_TRUE(IsInvalid(ConfigAccess::build_without_host_checks(
                            VmConfig::builder().linux_boot(missing).network(FileHandleNetwork{-1, 1500})),
                        "networks[0].fd", "-1 is not a file descriptor"));
  EXPECT_TRUE(IsInvalid(ConfigAccess::build_without_host_checks(
                            VmConfig::builder().linux_boot(missing).share("t", "")),
                        "shares[0].directory", "no directory given"));
}

}  // namespace
