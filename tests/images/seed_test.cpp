// cloud-init NoCloud seeds: an ISO 9660 volume labelled cidata with the three files, read back
// with libarchive; the builder call attaches it read-only.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "support/temp_dir.hpp"
#include "vmm/disks.hpp"

namespace vmm::disks {
namespace {

std::map<std::string, std::string> read_iso(const std::filesystem::path& iso) {
  std::map<std::string, std::string> files;
  archive* reader = archive_read_new();
  archive_read_support_format_iso9660(reader);
  EXPECT_EQ(archive_read_open_filename(reader, iso.c_str(), 10240), ARCHIVE_OK);
  archive_entry* entry = nullptr;
  while (archive_read_next_header(reader, &entry) == ARCHIVE_OK) {
    std::string content(static_cast<std::size_t>(archive_entry_size(entry)), '\0');
    if (!content.empty()) archive_read_data(reader, content.data(), content.size());
    files[archive_entry_pathname(entry)] = content;
  }
  archive_read_free(reader);
  return files;
}

// The volume identifier of the primary volume descriptor (sector 16, bytes 40..71).
std::string volume_id(const std::filesystem::path& iso) {
  std::ifstream in(iso, std::ios::binary);
  std::string id(32, '\0');
  in.seekg(16 * 2048 + 40);
  in.read(id.data(), 32);
  return id.substr(0, id.find_last_not_of(' ') + 1);
}

TEST(CloudInitSeed, IsoHoldsTheFilesUnderTheCidataLabel) {
  support::TempDir dir;
  const auto iso = dir.path() / "seed.iso";
  CloudInitSeed seed;
  seed.user_data = "#cloud-config\npassword: secret\n";
  seed.network_config = "version: 2\n";
  seed.hostname = "box1";
  auto written = write_cloud_init_seed(seed, iso);
  ASSERT_TRUE(written) << written.error().to_string();
  // ISO 9660 volume identifiers are upper case; cloud-init looks for "cidata" or "CIDATA".
  EXPECT_EQ(volume_id(iso), "CIDATA");
  const auto files = read_iso(iso);
  ASSERT_EQ(files.count("user-data"), 1u);
  EXPECT_EQ(files.at("user-data"), seed.user_data);
  EXPECT_EQ(files.at("meta-data"), "instance-id: box1\nlocal-hostname: box1\n");
  EXPECT_EQ(files.at("network-config"), "version: 2\n");
}

TEST(CloudInitSeed, WithoutNetworkConfigAndGivenMetaData) {
  support::TempDir dir;
  const auto iso = dir.path() / "seed.iso";
  CloudInitSeed seed;
  seed.user_data = "#cloud-config\n";
  seed.meta_data = "instance-id: i-1\n";
  ASSERT_TRUE(write_cloud_init_seed(seed, iso));
  const auto files = read_iso(iso);
  EXPECT_EQ(files.count("network-config"), 0u);
  EXPECT_EQ(files.at("meta-data"), "instance-id: i-1\n");
  // Replaced whole by a second write.
  seed.user_data = "#cloud-config\nother: 1\n";
  ASSERT_TRUE(write_cloud_init_seed(seed, iso));
  EXPECT_EQ(read_iso(iso).at("user-data"), seed.user_data);
}

TEST(CloudInitSeed, BadHostnameAndUnwritablePath) {
  support::TempDir dir;
  CloudInitSeed seed;
  seed.hostname = "two words";
  auto bad = write_cloud_init_seed(seed, dir.path() / "seed.iso");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), Errc::invalid_config);
  auto nowhere = write_cloud_init_seed(CloudInitSeed{}, dir.path() / "no" / "seed.iso");
  ASSERT_FALSE(nowhere);
  EXPECT_NE(nowhere.error().message().find("seed.iso"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "no"));
}

TEST(CloudInitSeed, AttachIsOneReadOnlyDisk) {
  support::TempDir dir;
  const auto kernel = dir.file("vmlinuz");
  const auto iso = dir.path() / "seed.iso";
  ASSERT_TRUE(write_cloud_init_seed(CloudInitSeed{}, iso));
  auto builder = VmConfig::builder();
  builder.linux_boot(kernel);
  attach_seed(builder, iso);
  auto config = builder.build();
  ASSERT_TRUE(config) << config.error().to_string();
  ASSERT_EQ(config->disks().size(), 1u);
  EXPECT_EQ(config->disks()[0].path, iso);
  EXPECT_TRUE(config->disks()[0].read_only);
  EXPECT_EQ(config->disks()[0].format, DiskFormat::raw);
}

}  // namespace
}  // namespace vmm::disks
