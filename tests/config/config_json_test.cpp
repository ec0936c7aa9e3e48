// VmConfig::to_json / from_json: the round trip of every field, the schema, and the rejection
// of bad documents with the JSON path of the offending field in the message.
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <array>
#include <fstream>
#include <system_error>
#include <string>

#include "config/test_support.hpp"
#include "vmm/config.hpp"

namespace {

using namespace vmm;
using nlohmann::json;
using testing::HasSubstr;
using testing::StartsWith;
using vmm_test::IsInvalid;
using vmm_test::disk_at;
using vmm_test::IsOk;
using vmm_test::TempDir;
namespace fs = std::filesystem;

const MacAddress kMacA({0x52, 0x54, 0x00, 0x00, 0x00, 0x01});
const MacAddress kMacB({0x52, 0x54, 0x00, 0x00, 0x00, 0x02});

class ConfigJsonTest : public testing::Test {
 protected:
  ConfigJsonTest() {
    if (::socketpair(AF_UNIX, SOCK_DGRAM, 0, dgram_.data()) != 0) dgram_ = {-1, -1};
  }
  ~ConfigJsonTest() override {
    for (int fd : dgram_)
      if (fd >= 0) ::close(fd);
  }

  // The smallest document that builds.
  json minimal() const {
    return json{{"schema_version", 1}, {"boot", {{"type", "linux"}, {"kernel", kernel_.string()}}}};
  }
  json with_disks() const {
    auto doc = minimal();
    doc["disks"] = json::array({json{{"path", image_.string()}}, json{{"path", image_.string()}}});
    return doc;
  }
  static Result<VmConfig> read(const json& doc) { return VmConfig::from_json(doc.dump()); }

  // A config that sets every field (Linux boot).
  Result<VmConfig> everything() const {
    DiskImage data;
    data.path = image_;
    data.format = DiskFormat::qcow2;
    data.read_only = true;
    data.caching = CachingMode::uncached;
    data.sync = SyncMode::full;
    data.bus = BlockBus::nvme;
    data.device_id = "data-0001";
    DiskImage usb;
    usb.path = image_;
    usb.format = DiskFormat::asif;
    usb.caching = CachingMode::automatic;
    usb.sync = SyncMode::none;
    usb.bus = BlockBus::usb;
    return VmConfig::builder()
        .cpus(3)
        .memory(Size::mib(1536))
        .linux_boot(LinuxBoot{kernel_, initrd_, "console=hvc0 root=/dev/vda", {"given"}})
        .kernel_command_line_fragment("quiet")
        .nat_network()
        .network(BridgedNetwork{"en0"}, kMacA)
        .network(FileHandleNetwork{dgram_[0], 9000})
        .network(UnixDatagramNetwork{"/tmp/vmm-net.sock", 65535}, kMacB)
        .network(VmnetNetwork{"192.168.105.0/24"})
        .network(VmnetNetwork{})
        .network(TapNetwork{"tap0"})
        .share("single", temp_.dir("single"), true)
        .share(VirtiofsShare{"multi",
                             std::map<std::string, SharedDirectory>{
                                 {"docs", SharedDirectory{temp_.dir("docs"), true}},
                                 {"src", SharedDirectory{temp_.dir("src"), false}}}})
        .disk(data)
        .disk(usb)
        .vsock()
        .serial(SerialToFile{temp_.path() / "serial.log", false})
        .entropy()
        .balloon()
        .rosetta("rosetta")
        .nested_virtualization()
        .machine_identifier({0x00, 0x01, 0xab, 0xcd, 0xef, 0xff})
        .build();
  }

  TempDir temp_;
  fs::path kernel_ = temp_.file("vmlinuz", "kernel");
  fs::path initrd_ = temp_.file("initrd.img", "initrd");
  fs::path image_ = temp_.file("root.img", "disk");
  std::array<int, 2> dgram_{-1, -1};
};

// ---- round trip --------------------------------------------------------------------------------

TEST_F(ConfigJsonTest, RoundTripsEveryField) {
  ASSERT_GE(dgram_[0], 0);
  const auto config = everything();
  ASSERT_TRUE(IsOk(config));
  const auto text = config->to_json();
  const auto back = VmConfig::from_json(text);
  ASSERT_TRUE(IsOk(back)) << text;
  EXPECT_EQ(*back, *config) << text;
  EXPECT_EQ(back->network_macs(), config->network_macs());
  EXPECT_FALSE(back->machine_identifier_generated());
  EXPECT_EQ(back->to_json(), text);
}

TEST_F(ConfigJsonTest, WritesTheSchema) {
  ASSERT_GE(dgram_[0], 0);
  const auto config = everything();
  ASSERT_TRUE(IsOk(config));
  const auto doc = json::parse(config->to_json());
  EXPECT_EQ(doc.at("schema_version"), 1);
  EXPECT_EQ(doc.at("cpus"), 3);
  EXPECT_EQ(doc.at("memory"), "1536MiB");
  EXPECT_EQ(doc.at("boot").at("type"), "linux");
  EXPECT_EQ(doc.at("boot").at("extra_command_line"), json::array({"given", "quiet"}));
  EXPECT_EQ(doc.at("networks").size(), 7u);
  EXPECT_EQ(doc.at("networks")[0].at("type"), "nat");
  EXPECT_EQ(doc.at("networks")[0].at("mac"), config->networks()[0].mac.to_string());
  EXPECT_EQ(doc.at("networks")[1].at("mac"), "52:54:00:00:00:01");
  EXPECT_EQ(doc.at("networks")[2].at("fd"), dgram_[0]);
  EXPECT_EQ(doc.at("networks")[2].at("mtu"), 9000);
  EXPECT_EQ(doc.at("networks")[4].at("subnet"), "192.168.105.0/24");
  EXPECT_FALSE(doc.at("networks")[5].contains("subnet"));
  EXPECT_EQ(doc.at("networks")[6].at("type"), "tap");
  EXPECT_EQ(doc.at("networks")[6].at("ifname"), "tap0");
  EXPECT_EQ(doc.at("shares")[1].at("directories").at("docs").at("read_only"), true);
  EXPECT_EQ(doc.at("disks")[0].at("caching"), "uncached");
  EXPECT_EQ(doc.at("disks")[0].at("device_id"), "data-0001");
  EXPECT_FALSE(doc.at("disks")[1].contains("device_id"));
  EXPECT_EQ(doc.at("serial").at("type"), "file");
  EXPECT_EQ(doc.at("machine_identifier"), "0001abcdefff");
  EXPECT_EQ(doc.at("machine_identifier_generated"), false);
  EXPECT_EQ(doc.at("rosetta_tag"), "rosetta");
}

TEST_F(ConfigJsonTest, RoundTripsAGeneratedIdentifierWithItsFlag) {
  const auto config = VmConfig::builder().linux_boot(kernel_).nat_network().build();
  ASSERT_TRUE(IsOk(config));
  ASSERT_TRUE(config->machine_identifier_generated());
  const auto text = config->to_json();
  EXPECT_EQ(json::parse(text).at("machine_identifier_generated"), true);
  const auto back = VmConfig::from_json(text);
  ASSERT_TRUE(IsOk(back));
  EXPECT_TRUE(back->machine_identifier_generated());
  EXPECT_EQ(back->machine_identifier(), config->machine_identifier());
  EXPECT_EQ(back->network_macs(), config->network_macs());
  EXPECT_EQ(*back, *config);
}

TEST_F(ConfigJsonTest, TheGeneratedFlagIsPartOfEquality) {
  auto doc = minimal();
  doc["machine_identifier"] = "00112233445566778899aabbccddeeff";
  doc["machine_identifier_generated"] = false;
  const auto given = read(doc);
  doc["machine_identifier_generated"] = true;
  const auto generated = read(doc);
  ASSERT_TRUE(IsOk(given));
  ASSERT_TRUE(IsOk(generated));
  EXPECT_FALSE(given->machine_identifier_generated());
  EXPECT_TRUE(generated->machine_identifier_generated());
  EXPECT_EQ(given->machine_identifier(), generated->machine_identifier());
  EXPECT_NE(*given, *generated);
}

TEST_F(ConfigJsonTest, RoundTripsEfiBoot) {
  for (const bool create : {true, false}) {
    const auto store = create ? temp_.path() / "new-nvram" : temp_.file("nvram");
    const auto config = VmConfig::builder().efi_boot(EfiBoot{store, create}).build();
    ASSERT_TRUE(IsOk(config));
    const auto text = config->to_json();
    const auto doc = json::parse(text);
    EXPECT_EQ(doc.at("boot"), (json{{"type", "efi"}, {"variable_store", store.string()},
                                    {"create_if_missing", create}}));
    const auto back = VmConfig::from_json(text);
    ASSERT_TRUE(IsOk(back)) << text;
    EXPECT_EQ(*back, *config);
  }
}

TEST_F(ConfigJsonTest, RoundTripsSerialFdAndNoSerial) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  for (const SerialConsole& serial : {SerialConsole(SerialToFd{fds[1]}), SerialConsole()}) {
    const auto config = VmConfig::builder().linux_boot(kernel_).serial(serial).build();
    ASSERT_TRUE(IsOk(config));
    const auto back = VmConfig::from_json(config->to_json());
    ASSERT_TRUE(IsOk(back)) << config->to_json();
    EXPECT_EQ(back->serial(), serial);
    EXPECT_EQ(*back, *config);
  }
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_F(ConfigJsonTest, MinimalDocumentGetsDefaults) {
  const auto config = read(minimal());
  ASSERT_TRUE(IsOk(config));
  EXPECT_EQ(config->cpus(), 2u);
  EXPECT_EQ(config->memory(), Size::gib(1));
  EXPECT_EQ(std::get<LinuxBoot>(config->boot()), (LinuxBoot{kernel_, {}, "", {}}));
  EXPECT_TRUE(config->networks().empty());
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

TEST_F(ConfigJsonTest, DefaultsInsideObjects) {
  auto doc = minimal();
  doc["disks"] = json::array({json{{"path", image_.string()}}});
  doc["networks"] = json::array({json{{"type", "unix_datagram"}, {"socket", "/tmp/s"}}, json{{"type", "nat"}}});
  doc["shares"] = json::array({json{{"tag", "t"}, {"directory", temp_.path().string()}}});
  doc["serial"] = json{{"type", "file"}, {"path", (temp_.path() / "log").string()}};
  const auto config = read(doc);
  ASSERT_TRUE(IsOk(config));
  EXPECT_EQ(config->disks()[0], disk_at(image_));
  EXPECT_EQ(std::get<UnixDatagramNetwork>(config->networks()[0].attachment).mtu, 1500u);
  EXPECT_TRUE(config->networks()[1].mac.is_locally_administered());
  EXPECT_FALSE(std::get<SharedDirectory>(config->shares()[0].source).read_only);
  EXPECT_TRUE(std::get<SerialToFile>(config->serial()).append);
}

TEST_F(ConfigJsonTest, MemoryAsAByteCount) {
  auto doc = minimal();
  doc["memory"] = 2147483648u;
  const auto config = read(doc);
  ASSERT_TRUE(IsOk(config));
  EXPECT_EQ(config->memory(), Size::gib(2));
  doc["memory"] = "1.5 GiB";
  const auto parsed = read(doc);
  ASSERT_TRUE(IsOk(parsed));
  EXPECT_EQ(parsed->memory(), Size::mib(1536));
}

// A config that build() accepted must serialize. Linux paths, interface names and command lines
// are bytes, and a tag passes the UTF-8 check of src/config/validation.cpp while nlohmann::json
// refuses to dump it; either build() rejects such a value or to_json() must write it.
TEST_F(ConfigJsonTest, AnAcceptedConfigAlwaysSerializes) {
  std::vector<std::pair<std::string, VmConfigBuilder>> cases;
  // Filesystems that insist on UTF-8 names (APFS) refuse these: then there is nothing to check.
  const auto odd_image = temp_.path() / "disk-\xff.img";
  if (std::ofstream(odd_image).put('x'))
    cases.emplace_back("disk path", VmConfig::builder().linux_boot(kernel_).disk(odd_image));
  const auto odd_dir = temp_.path() / "share-\xfe";
  std::error_code ec;
  if (fs::create_directory(odd_dir, ec))
    cases.emplace_back("share directory", VmConfig::builder().linux_boot(kernel_).share("t", odd_dir));
  cases.emplace_back("command line",
                     VmConfig::builder().linux_boot(kernel_, std::nullopt, "console=\xff"));
  cases.emplace_back("bridged interface",
                     VmConfig::builder().linux_boot(kernel_).network(BridgedNetwork{"en\xff"}));
  cases.emplace_back("overlong tag", VmConfig::builder().linux_boot(kernel_).share("\xC0\xAF", temp_.path()));
  for (const auto& [what, builder] : cases) {
    const auto config = builder.build();
    if (!config) {
      EXPECT_EQ(config.error().code(), Errc::invalid_config) << what;
      continue;
    }
    std::string text;
    EXPECT_NO_THROW(text = config->to_json()) << what << ": build() accepted it";
    if (text.empty()) continue;
    const auto back = VmConfig::from_json(text);
    EXPECT_TRUE(IsOk(back)) << what;
    if (back) {
      EXPECT_EQ(*back, *config) << what;
    }
  }
}

// ---- rejected documents ------------------------------------------------------------------------

TEST_F(ConfigJsonTest, MalformedJsonNamesTheByteOffset) {
  const auto config = VmConfig::from_json("{\"schema_version\": 1,, }");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code(), Errc::invalid_config);
  EXPECT_THAT(config.error().message(), StartsWith("config JSON is malformed at byte 22: "));
  const auto empty = VmConfig::from_json("");
  ASSERT_FALSE(empty);
  EXPECT_THAT(empty.error().message(), StartsWith("config JSON is malformed at byte 1: "));
  const auto truncated = VmConfig::from_json(R"({"schema_version": 1)");
  ASSERT_FALSE(truncated);
  EXPECT_THAT(truncated.error().message(), StartsWith("config JSON is malformed at byte 21: "));
}

TEST_F(ConfigJsonTest, RootMustBeAnObject) {
  EXPECT_TRUE(IsInvalid(VmConfig::from_json("[]"), "$", "expected an object, got an array"));
  EXPECT_TRUE(IsInvalid(VmConfig::from_json("\"config\""), "$", "expected an object, got a string"));
  EXPECT_TRUE(IsInvalid(VmConfig::from_json("null"), "$", "expected an object, got null"));
}

TEST_F(ConfigJsonTest, SchemaVersion) {
  auto doc = minimal();
  doc.erase("schema_version");
  EXPECT_TRUE(IsInvalid(read(doc), "$.schema_version", "missing required field"));
  doc["schema_version"] = 2;
  EXPECT_TRUE(IsInvalid(read(doc), "$.schema_version",
                        "version 2 is not supported (this library reads version 1)"));
  doc["schema_version"] = 0;
  EXPECT_TRUE(IsInvalid(read(doc), "$.schema_version", "version 0 is not supported"));
  doc["schema_version"] = "1";
  EXPECT_TRUE(IsInvalid(read(doc), "$.schema_version", "expected an integer, got a string"));
  doc["schema_version"] = 1.0;
  EXPECT_TRUE(IsInvalid(read(doc), "$.schema_version", "expected an integer, got a number with a fraction"));
  doc["schema_version"] = UINT64_MAX;
  EXPECT_TRUE(IsInvalid(read(doc), "$.schema_version", "integer out of range"));
}

TEST_F(ConfigJsonTest, UnknownFields) {
  auto top = minimal();
  top["colour"] = "red";
  EXPECT_TRUE(IsInvalid(read(top), "$.colour", "unknown field"));

  auto disk = with_disks();
  disk["disks"][0]["colour"] = "red";
  EXPECT_TRUE(IsInvalid(read(disk), "$.disks[0].colour", "unknown field"));

  auto boot = minimal();
  boot["boot"]["variable_store"] = "/nvram";  // an EFI field in a Linux boot
  EXPECT_TRUE(IsInvalid(read(boot), "$.boot.variable_store", "unknown field"));

  auto nat = minimal();
  nat["networks"] = json::array({json{{"type", "nat"}, {"interface", "en0"}}});
  EXPECT_TRUE(IsInvalid(read(nat), "$.networks[0].interface", "unknown field"));

  auto multi = minimal();
  multi["shares"] = json::array(
      {json{{"tag", "t"}, {"directories", {{"a", {{"directory", "/"}, {"colour", 1}}}}}}});
  EXPECT_TRUE(IsInvalid(read(multi), "$.shares[0].directories[\"a\"].colour", "unknown field"));

  auto serial = minimal();
  serial["serial"] = json{{"type", "none"}, {"fd", 1}};
  EXPECT_TRUE(IsInvalid(read(serial), "$.serial.fd", "unknown field"));
}

TEST_F(ConfigJsonTest, WrongTypes) {
  auto doc = minimal();
  doc["cpus"] = "four";
  EXPECT_TRUE(IsInvalid(read(doc), "$.cpus", "expected an integer, got a string"));
  doc["cpus"] = -1;
  EXPECT_TRUE(IsInvalid(read(doc), "$.cpus", "-1 is below the minimum of 1"));
  doc["cpus"] = 4294967296u;
  EXPECT_TRUE(IsInvalid(read(doc), "$.cpus", "4294967296 is above the maximum of 255"));

  doc = minimal();
  doc["vsock"] = "yes";
  EXPECT_TRUE(IsInvalid(read(doc), "$.vsock", "expected a boolean, got a string"));

  doc = minimal();
  doc["networks"] = json::object();
  EXPECT_TRUE(IsInvalid(read(doc), "$.networks", "expected an array, got an object"));

  doc = minimal();
  doc["disks"] = json::array({"/disk.img"});
  EXPECT_TRUE(IsInvalid(read(doc), "$.disks[0]", "expected an object, got a string"));

  doc = minimal();
  doc["boot"]["extra_command_line"] = json::array({"quiet", 3});
  EXPECT_TRUE(IsInvalid(read(doc), "$.boot.extra_command_line[1]", "expected a string, got an integer"));

  doc = minimal();
  doc["boot"]["kernel"] = 7;
  EXPECT_TRUE(IsInvalid(read(doc), "$.boot.kernel", "expected a string, got an integer"));

  doc = minimal();
  doc["rosetta_tag"] = true;
  EXPECT_TRUE(IsInvalid(read(doc), "$.rosetta_tag", "expected a string, got a boolean"));
}

TEST_F(ConfigJsonTest, BadEnumValues) {
  for (const auto& [field, choices] : std::vector<std::pair<std::string, std::string>>{
           {"caching", R"("automatic", "cached", "uncached")"},
           {"format", R"("raw", "asif", "qcow2")"},
           {"sync", R"("full", "fsync", "none")"},
           {"bus", R"("virtio", "nvme", "usb")"}}) {
    auto doc = with_disks();
    doc["disks"][1][field] = "sometimes";
    EXPECT_TRUE(IsInvalid(read(doc), "$.disks[1]." + field, "\"sometimes\" is not one of " + choices))
        << field;
  }
  auto upper = with_disks();
  upper["disks"][0]["format"] = "RAW";  // names are exact
  EXPECT_TRUE(IsInvalid(read(upper), "$.disks[0].format", "\"RAW\" is not one of"));
}

TEST_F(ConfigJsonTest, BadMac) {
  auto doc = minimal();
  doc["networks"] = json::array({json{{"type", "nat"}, {"mac", "52:54:00:zz:00:01"}}});
  EXPECT_TRUE(IsInvalid(read(doc), "$.networks[0].mac", "MAC address \"52:54:00:zz:00:01\" is malformed"));
  doc["networks"][0]["mac"] = "01:00:5e:00:00:01";
  EXPECT_TRUE(IsInvalid(read(doc), "$.networks[0].mac", "01:00:5e:00:00:01 is a multicast address"));
  doc["networks"][0]["mac"] = 5;
  EXPECT_TRUE(IsInvalid(read(doc), "$.networks[0].mac", "expected a string, got an integer"));
}

TEST_F(ConfigJsonTest, BadMachineIdentifier) {
  auto doc = minimal();
  doc["machine_identifier"] = "zz";
  EXPECT_TRUE(IsInvalid(read(doc), "$.machine_identifier", "\"zz\" is not hexadecimal"));
  doc["machine_identifier"] = "abc";
  EXPECT_TRUE(IsInvalid(read(doc), "$.machine_identifier", "\"abc\" has an odd number of hexadecimal digits"));
  doc["machine_identifier"] = "";
  EXPECT_TRUE(IsInvalid(read(doc), "$.machine_identifier", "empty identifier"));
  doc["machine_identifier"] = "ABCDEF";
  const auto upper = read(doc);
  ASSERT_TRUE(IsOk(upper));
  EXPECT_EQ(upper->machine_identifier(), (std::vector<std::uint8_t>{0xab, 0xcd, 0xef}));
}

TEST_F(ConfigJsonTest, BadMemory) {
  auto doc = minimal();
  doc["memory"] = "lots";
  EXPECT_TRUE(IsInvalid(read(doc), "$.memory", "size \"lots\": no number"));
  doc["memory"] = "12 parsecs";
  EXPECT_TRUE(IsInvalid(read(doc), "$.memory", "size \"12 parsecs\": unknown unit \"parsecs\""));
  doc["memory"] = 1.5;
  EXPECT_TRUE(IsInvalid(read(doc), "$.memory", "expected a string, got a number with a fraction"));
  doc["memory"] = -1;
  EXPECT_TRUE(IsInvalid(read(doc), "$.memory", "-1 is negative"));
}

TEST_F(ConfigJsonTest, NegativeDescriptors) {
  auto doc = minimal();
  doc["networks"] = json::array({json{{"type", "file_handle"}, {"fd", -1}}});
  EXPECT_TRUE(IsInvalid(read(doc), "$.networks[0].fd", "-1 is negative"));
  doc["networks"][0]["fd"] = 2147483648u;
  EXPECT_TRUE(IsInvalid(read(doc), "$.networks[0].fd", "2147483648 is above the maximum of 2147483647"));
  auto serial = minimal();
  serial["serial"] = json{{"type", "fd"}, {"fd", -3}};
  EXPECT_TRUE(IsInvalid(read(serial), "$.serial.fd", "-3 is negative"));
  auto mtu = minimal();
  mtu["networks"] = json::array({json{{"type", "unix_datagram"}, {"socket", "/s"}, {"mtu", 4294967296u}}});
  EXPECT_TRUE(IsInvalid(read(mtu), "$.networks[0].mtu", "4294967296 is above the maximum of 65535"));
}

TEST_F(ConfigJsonTest, UnknownTypes) {
  auto network = minimal();
  network["networks"] = json::array({json{{"type", "nat"}}, json{{"type", "wifi"}}});
  EXPECT_TRUE(IsInvalid(read(network), "$.networks[1].type",
                        R"("wifi" is not one of "nat", "bridged", "file_handle", "unix_datagram", "vmnet", "tap")"));
  auto untyped = minimal();
  untyped["networks"] = json::array({json::object()});
  EXPECT_TRUE(IsInvalid(read(untyped), "$.networks[0].type", "missing required field"));

  auto boot = minimal();
  boot["boot"]["type"] = "bios";
  EXPECT_TRUE(IsInvalid(read(boot), "$.boot.type", R"("bios" is not one of "linux", "efi")"));
  auto no_boot = minimal();
  no_boot.erase("boot");
  EXPECT_TRUE(IsInvalid(read(no_boot), "$.boot", "missing required field"));

  auto serial = minimal();
  serial["serial"] = json{{"type", "telnet"}};
  EXPECT_TRUE(IsInvalid(read(serial), "$.serial.type", R"("telnet" is not one of "none", "file", "fd")"));
}

TEST_F(ConfigJsonTest, DirectoryAndDirectoriesBothGiven) {
  auto doc = minimal();
  doc["shares"] = json::array({json{{"tag", "t"},
                                    {"directory", temp_.path().string()},
                                    {"directories", {{"a", {{"directory", temp_.path().string()}}}}}}});
  EXPECT_TRUE(IsInvalid(read(doc), "$.shares[0].directories",
                        "give either \"directory\" or \"directories\", not both"));
  doc["shares"][0].erase("directory");
  doc["shares"][0]["read_only"] = true;
  EXPECT_TRUE(IsInvalid(read(doc), "$.shares[0].directories", "not both"));
  doc["shares"][0].erase("read_only");
  EXPECT_TRUE(IsOk(read(doc)));
  doc["shares"][0]["directories"] = json::array();
  EXPECT_TRUE(IsInvalid(read(doc), "$.shares[0].directories", "expected an object, got an array"));
}

// ---- validation errors carry the "$." prefix -----------------------------------------------------

TEST_F(ConfigJsonTest, ValidationErrorsNameTheJsonPath) {
  auto cpus = minimal();
  cpus["cpus"] = 0;
  EXPECT_TRUE(IsInvalid(read(cpus), "$.cpus", "0 is below the minimum of 1"));

  auto memory = minimal();
  memory["memory"] = "64MiB";
  EXPECT_TRUE(IsInvalid(read(memory), "$.memory", "64MiB is below the minimum of 128MiB"));

  auto kernel = minimal();
  const auto missing = (temp_.path() / "missing-kernel").string();
  kernel["boot"]["kernel"] = missing;
  EXPECT_TRUE(IsInvalid(read(kernel), "$.boot.kernel", missing + " does not exist"));

  auto device_id = with_disks();
  device_id["disks"][1]["device_id"] = std::string(21, 'x');
  EXPECT_TRUE(IsInvalid(read(device_id), "$.disks[1].device_id", "\"" + std::string(21, 'x') + "\" is 21 bytes"));

  auto macs = minimal();
  macs["networks"] = json::array({json{{"type", "nat"}, {"mac", kMacA.to_string()}},
                                  json{{"type", "nat"}, {"mac", kMacA.to_string()}}});
  EXPECT_TRUE(IsInvalid(read(macs), "$.networks[1].mac", "52:54:00:00:00:01 is already used by networks[0]"));

  auto subnet = minimal();
  subnet["networks"] = json::array({json{{"type", "vmnet"}, {"subnet", "10.0.0.1/8"}}});
  EXPECT_TRUE(IsInvalid(read(subnet), "$.networks[0].subnet", "\"10.0.0.1/8\""));
}

}  // namespace
