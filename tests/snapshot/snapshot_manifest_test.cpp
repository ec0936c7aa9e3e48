// manifest.json: round trip and strict reading with JSON paths in errors.
#include <gtest/gtest.h>

#include <gmock/gmock.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "support/fake_vm.hpp"
#include "snapshot/manifest.hpp"
#include "vmm/snapshot.hpp"
#include "vmm/version.hpp"

namespace vmm::testing {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

constexpr const char* kDigest = "xxh3-128:0123456789abcdef0123456789abcdef";

class Manifest : public ::testing::Test {
 protected:
  TempDir dir_;
  SnapshotManifest manifest_{.format_version = SnapshotManifest::current_format_version,
                             .backend = "qemu",
                             .config = base_config(dir_),
                             .state_file = "state.qemu",
                             .created_at = "2026-11-22T21:40:00Z",
                             .library_version = version_string,
                             .serial_port = true,
                             .digests = {{"state.qemu", kDigest}}};

  json document() const { return json::parse(detail::manifest_to_json(manifest_)); }
  // Parses `document` after `edit`, expecting an invalid_config error.
  std::string error_after(const std::function<void(json&)>& edit) const {
    auto doc = document();
    edit(doc);
    auto parsed = detail::parse_snapshot_manifest(doc.dump());
    if (parsed) return "(accepted)";
    EXPECT_EQ(parsed.error().code(), Errc::invalid_config);
    return parsed.error().message();
  }
};

TEST_F(Manifest, RoundTripsEveryField) {
  auto parsed = detail::parse_snapshot_manifest(detail::manifest_to_json(manifest_));
  ASSERT_TRUE(parsed) << parsed.error().to_string();
  EXPECT_EQ(parsed->format_version, 2);
  EXPECT_EQ(parsed->digests, manifest_.digests);
  EXPECT_EQ(parsed->backend, "qemu");
  EXPECT_EQ(parsed->config, manifest_.config);
  EXPECT_EQ(parsed->state_file, "state.qemu");
  EXPECT_EQ(parsed->created_at, "2026-11-22T21:40:00Z");
  EXPECT_EQ(parsed->library_version, version_string);
  EXPECT_EQ(parsed->serial_port, std::optional<bool>(true));
  EXPECT_EQ(parsed->machine_identifier(), manifest_.config.machine_identifier());
  EXPECT_EQ(parsed->macs(), manifest_.config.network_macs());
}

// serial_port is optional (manifests written before it was recorded lack it), and strict.
TEST_F(Manifest, SerialPortIsRecordedOptionalAndABoolean) {
  EXPECT_EQ(document().at("serial_port"), json(true));
  manifest_.serial_port = false;
  EXPECT_EQ(document().at("serial_port"), json(false));
  manifest_.serial_port = std::nullopt;
  EXPECT_FALSE(document().contains("serial_port"));
  auto old = detail::parse_snapshot_manifest(detail::manifest_to_json(manifest_));
  ASSERT_TRUE(old) << old.error().to_string();
  EXPECT_EQ(old->serial_port, std::nullopt);
  EXPECT_THAT(error_after([](json& doc) { doc["serial_port"] = "yes"; }),
              HasSubstr("$.serial_port"));
}

TEST_F(Manifest, EmbedsTheConfigAsAnObject) {
  const auto doc = document();
  ASSERT_TRUE(doc.at("config").is_object());
  EXPECT_EQ(doc.at("config"), json::parse(manifest_.config.to_json()));
}

TEST_F(Manifest, ReadFromABundleDirectory) {
  const auto bundle = dir_.path() / "bundle";
  std::filesystem::create_directories(bundle);
  std::ofstream(bundle / "manifest.json") << detail::manifest_to_json(manifest_);
  auto read = read_snapshot_manifest(bundle);
  ASSERT_TRUE(read) << read.error().to_string();
  EXPECT_EQ(read->config, manifest_.config);
}

TEST_F(Manifest, MissingManifestIsNotFoundNamingThePath) {
  auto read = read_snapshot_manifest(dir_.path() / "nothing-here");
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code(), Errc::not_found);
  EXPECT_THAT(read.error().message(), HasSubstr("nothing-here/manifest.json"));
}

TEST_F(Manifest, MalformedJsonIsRejectedWithThePath) {
  const auto bundle = dir_.path() / "bundle";
  std::filesystem::create_directories(bundle);
  std::ofstream(bundle / "manifest.json") << "{\"format_version\": 1,";
  auto read = read_snapshot_manifest(bundle);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code(), Errc::invalid_config);
  EXPECT_THAT(read.error().message(), HasSubstr("bundle/manifest.json: $: manifest JSON is malformed"));
}

TEST_F(Manifest, EmptyFileIsMalformedNotUnreadable) {
  const auto bundle = dir_.path() / "bundle";
  std::filesystem::create_directories(bundle);
  std::ofstream(bundle / "manifest.json").flush();
  auto read = read_snapshot_manifest(bundle);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code(), Errc::invalid_config);
}

TEST_F(Manifest, TopLevelMustBeAnObject) {
  auto parsed = detail::parse_snapshot_manifest("[1, 2]");
  ASSERT_FALSE(parsed);
  EXPECT_THAT(parsed.error().message(), HasSubstr("$: expected an object"));
}

TEST_F(Manifest, UnknownFieldIsNamed) {
  EXPECT_EQ(error_after([](json& d) { d["comment"] = "hi"; }), "$.comment: unknown field");
}

TEST_F(Manifest, MissingFieldsAreNamed) {
  for (const char* field :
       {"format_version", "backend", "config", "state_file", "created_at", "library_version",
        "digests"}) {
    EXPECT_THAT(error_after([&](json& d) { d.erase(field); }),
                HasSubstr(std::string("$.") + field + ": missing"))
        << field;
  }
}

TEST_F(Manifest, WrongTypesAreNamed) {
  EXPECT_THAT(error_after([](json& d) { d["backend"] = 3; }),
              HasSubstr("$.backend: expected a string"));
  EXPECT_THAT(error_after([](json& d) { d["format_version"] = "1"; }),
              HasSubstr("$.format_version: expected an integer"));
  EXPECT_THAT(error_after([](json& d) { d["config"] = "{}"; }),
              HasSubstr("$.config: expected an object"));
}

TEST_F(Manifest, OtherFormatVersionIsRefused) {
  EXPECT_THAT(error_after([](json& d) { d["format_version"] = 3; }),
              HasSubstr("$.format_version: version 3 is not supported"));
  EXPECT_THAT(error_after([](json& d) { d["format_version"] = 0; }),
              HasSubstr("$.format_version: version 0 is not supported"));
}

// Bundles written before digests existed still read (restore then warns, unverified).
TEST_F(Manifest, FormatOneWithoutDigestsIsRead) {
  auto doc = document();
  doc["format_version"] = 1;
  doc.erase("digests");
  auto parsed = detail::parse_snapshot_manifest(doc.dump());
  ASSERT_TRUE(parsed) << parsed.error().to_string();
  EXPECT_EQ(parsed->format_version, 1);
  EXPECT_TRUE(parsed->digests.empty());
  doc["digests"] = json::object();
  EXPECT_FALSE(detail::parse_snapshot_manifest(doc.dump()));
}

TEST_F(Manifest, DigestsMustCoverExactlyTheStateFile) {
  EXPECT_THAT(error_after([](json& d) { d["digests"] = json::object(); }),
              HasSubstr("$.digests.state.qemu: missing required field"));
  EXPECT_THAT(error_after([](json& d) { d["digests"]["other"] = kDigest; }),
              HasSubstr("$.digests.other: \"other\" is not a file of the bundle"));
  EXPECT_THAT(error_after([](json& d) { d["digests"]["state.qemu"] = "sha256:00"; }),
              HasSubstr("$.digests.state.qemu: \"sha256:00\" is not"));
  EXPECT_THAT(error_after([](json& d) { d["digests"]["state.qemu"] = 5; }),
              HasSubstr("$.digests.state.qemu: expected a string"));
  EXPECT_THAT(error_after([](json& d) { d["digests"] = "x"; }),
              HasSubstr("$.digests: expected an object"));
}

// A manifest records every config field: a missing one is an error naming it, never the
// default (which would describe another VM: "the snapshot has 1GiB").
TEST_F(Manifest, MissingConfigFieldsAreNamedNotDefaulted) {
  for (const char* field :
       {"memory", "cpus", "networks", "shares", "disks", "vsock", "serial", "entropy", "balloon",
        "nested_virtualization", "machine_identifier", "machine_identifier_generated"}) {
    EXPECT_EQ(error_after([&](json& d) { d["config"].erase(field); }),
              std::string("$.config.") + field + ": missing required field")
        << field;
  }
}

TEST_F(Manifest, UnknownBackendIsRefused) {
  EXPECT_THAT(error_after([](json& d) { d["backend"] = "bhyve"; }),
              HasSubstr("$.backend: \"bhyve\" is not one of"));
}

TEST_F(Manifest, StateFileMustStayInsideTheBundle) {
  for (const char* name : {"../escape", "/etc/passwd", "", "..", "manifest.json", "a/b"}) {
    EXPECT_THAT(error_after([&](json& d) { d["state_file"] = name; }),
                HasSubstr("$.state_file:"))
        << name;
  }
}

TEST_F(Manifest, CreatedAtMustBeUtcIso8601) {
  EXPECT_THAT(error_after([](json& d) { d["created_at"] = "yesterday"; }),
              HasSubstr("$.created_at:"));
  EXPECT_THAT(error_after([](json& d) { d["created_at"] = "2026-11-22T21:40:00+01:00"; }),
              HasSubstr("$.created_at:"));
}

TEST_F(Manifest, ConfigErrorsCarryTheirPathInsideTheManifest) {
  EXPECT_THAT(error_after([](json& d) { d["config"]["cpus"] = 0; }), HasSubstr("$.config.cpus"));
  EXPECT_THAT(error_after([](json& d) { d["config"]["bogus"] = true; }),
              HasSubstr("$.config.bogus: unknown field"));
  EXPECT_THAT(error_after([](json& d) { d["config"]["networks"][0]["mac"] = "zz"; }),
              HasSubstr("$.config.networks[0]"));
}

TEST_F(Manifest, SavedConfigIsNotCheckedAgainstThisHost) {
  // The saved disk may live elsewhere now: the manifest is compared, not run.
  auto doc = document();
  doc["config"]["disks"][0]["path"] = "/nonexistent/elsewhere/root.img";
  auto parsed = detail::parse_snapshot_manifest(doc.dump());
  ASSERT_TRUE(parsed) << parsed.error().to_string();
  EXPECT_EQ(parsed->config.disks()[0].path, "/nonexistent/elsewhere/root.img");
}

TEST_F(Manifest, TimestampIsUtcIso8601) {
  const auto now = detail::utc_timestamp_now();
  auto doc = document();
  doc["created_at"] = now;
  EXPECT_TRUE(detail::parse_snapshot_manifest(doc.dump())) << now;
}

}  // namespace
}  // namespace vmm::testing
