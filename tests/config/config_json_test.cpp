// VmConfig::to_json / from_json: the round trip of every field, the schema, and the defaults of
// what a document leaves out. The rejection of bad documents is in
// config_json_rejection_test.cpp.
#include <unistd.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "config/test_support.hpp"
#include "config_json_fixture.hpp"
#include "vmm/config.hpp"

namespace {

using namespace vmm;
using nlohmann::json;
using vmm_test::ConfigJsonTest;
using vmm_test::disk_at;
using vmm_test::IsOk;
namespace fs = std::filesystem;

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

}  // namespace
