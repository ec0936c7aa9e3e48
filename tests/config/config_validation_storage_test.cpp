// The share and disk rules of src/config/validation.cpp, through VmConfigBuilder::build():
// virtiofs tags and directories, disk counts, paths, writability and device identifiers.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <string>

#include "config/test_support.hpp"
#include "validation_fixture.hpp"
#include "vmm/config.hpp"

namespace {

using namespace vmm;
using vmm_test::disk_at;
using vmm_test::IsInvalid;
using vmm_test::IsOk;
using vmm_test::ValidationTest;
namespace fs = std::filesystem;

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

}  // namespace
