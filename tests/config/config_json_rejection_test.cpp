// VmConfig::from_json: the rejection of bad documents, with the JSON path of the offending
// field in the message.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>

#include "config/test_support.hpp"
#include "config_json_fixture.hpp"
#include "vmm/config.hpp"

namespace {

using namespace vmm;
using nlohmann::json;
using testing::HasSubstr;
using testing::StartsWith;
using vmm_test::ConfigJsonTest;
using vmm_test::IsInvalid;
using vmm_test::IsOk;
using vmm_test::kMacA;
namespace fs = std::filesystem;

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
