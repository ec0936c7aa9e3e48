// The catalog: the built-in document's entries are well-formed (without fetching), documents
// are validated with errors naming the JSON path, user catalogs add and replace entries, and a
// missing image is an error listing what there is.
#include <gtest/gtest.h>

#include <cstdlib>
#include <set>

#include "images/catalog_internal.hpp"
#include "support/temp_dir.hpp"
#include "vmm/images.hpp"

namespace vmm::images {
namespace {

TEST(BuiltinCatalog, EveryEntryIsWellFormed) {
  auto catalog = Catalog::builtin();
  ASSERT_TRUE(catalog) << catalog.error().to_string();
  std::set<std::string> names;
  for (const auto& entry : catalog->entries()) {
    SCOPED_TRACE(entry.name + ":" + std::string(to_string(entry.arch)));
    names.insert(entry.name);
    EXPECT_FALSE(entry.description.empty());
    std::vector<const Asset*> assets;
    for (const auto* asset : {&entry.kernel, &entry.initrd, &entry.disk}) {
      if (*asset) assets.push_back(&**asset);
    }
    ASSERT_FALSE(assets.empty());
    if (entry.boot == BootKind::linux_direct) {
      EXPECT_TRUE(entry.kernel && entry.initrd);
      EXPECT_FALSE(entry.command_line.empty());
    } else {
      EXPECT_TRUE(entry.disk && !entry.kernel);
    }
    for (const auto* asset : assets) {
      // Downloads from the internet are HTTPS only; the manifest sits next to the file.
      EXPECT_EQ(asset->url.rfind("https://", 0), 0u) << asset->url;
      EXPECT_EQ(asset->manifest_url.rfind("https://", 0), 0u) << asset->manifest_url;
      const auto file = detail::manifest_name_of(*asset);
      EXPECT_FALSE(file.empty());
      const auto dir = asset->url.substr(0, asset->url.rfind('/') + 1);
      EXPECT_EQ(asset->manifest_url.rfind(dir, 0), 0u) << asset->manifest_url;
      // The manifest kind each distribution publishes.
      if (entry.name.rfind("debian-", 0) == 0) {
        EXPECT_EQ(asset->manifest_kind, ManifestKind::sha512sums);
        EXPECT_TRUE(asset->manifest_url.ends_with("/SHA512SUMS"));
      } else if (entry.name.rfind("ubuntu-", 0) == 0) {
        EXPECT_EQ(asset->manifest_kind, ManifestKind::sha256sums);
        EXPECT_TRUE(asset->manifest_url.ends_with("/SHA256SUMS"));
      } else if (entry.name.rfind("fedora-", 0) == 0) {
        EXPECT_EQ(asset->manifest_kind, ManifestKind::fedora_checksum);
        EXPECT_TRUE(asset->manifest_url.ends_with("-CHECKSUM"));
      } else if (entry.name.rfind("alpine-", 0) == 0) {
        EXPECT_EQ(asset->manifest_kind, ManifestKind::sha512sums);
        EXPECT_EQ(asset->manifest_url, asset->url + ".sha512");
      } else {
        ADD_FAILURE() << "no manifest rule for " << entry.name;
      }
    }
    if (entry.disk) {
      EXPECT_EQ(entry.disk_format, DiskFormat::qcow2);
    }
  }
  EXPECT_EQ(names, (std::set<std::string>{"debian-12", "ubuntu-24.04", "alpine-3.20", "fedora-41"}));
  // Both architectures of every image.
  EXPECT_EQ(catalog->entries().size(), names.size() * 2);
}

TEST(Catalog, FindByNameAndArch) {
  auto catalog = Catalog::builtin();
  ASSERT_TRUE(catalog);
  auto arm = catalog->find("debian-12:arm64");
  ASSERT_TRUE(arm) << arm.error().to_string();
  EXPECT_EQ(arm->arch, Arch::aarch64);
  EXPECT_NE(arm->disk->url.find("arm64"), std::string::npos);
  auto host = catalog->find("debian-12");
  ASSERT_TRUE(host);
  EXPECT_EQ(host->arch, host_arch());
}

TEST(Catalog, UnknownImageListsWhatThereIs) {
  auto catalog = Catalog::builtin();
  ASSERT_TRUE(catalog);
  auto missing = catalog->find("debian-99:x86_64");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Errc::not_found);
  EXPECT_NE(missing.error().message().find("debian-99"), std::string::npos);
  EXPECT_NE(missing.error().message().find("fedora-41:aarch64"), std::string::npos);
  auto bad_arch = catalog->find("debian-12:sparc");
  ASSERT_FALSE(bad_arch);
  EXPECT_NE(bad_arch.error().message().find("sparc"), std::string::npos);
}

constexpr std::string_view user_catalog = R"({"schema_version": 1, "images": [
  {"name": "debian-12", "arch": "x86_64", "boot": "linux", "description": "mine",
   "command_line": "console=hvc0",
   "kernel": {"url": "http://127.0.0.1:1/k", "checksums": {"url": "http://127.0.0.1:1/SUMS", "kind": "sha256sums"}},
   "initrd": {"url": "http://127.0.0.1:1/i", "checksums": {"url": "http://127.0.0.1:1/SUMS", "kind": "sha256sums", "file": "initrd.img"}}},
  {"name": "tiny", "arch": "aarch64", "boot": "efi",
   "disk": {"url": "http://127.0.0.1:1/d.raw", "format": "raw", "checksums": {"url": "http://127.0.0.1:1/SUMS", "kind": "sha512sums"}}}
]})";

TEST(Catalog, UserCatalogAddsAndReplaces) {
  auto catalog = Catalog::builtin();
  ASSERT_TRUE(catalog);
  const auto before = catalog->entries().size();
  auto user = Catalog::parse(user_catalog, "user.json");
  ASSERT_TRUE(user) << user.error().to_string();
  catalog->merge(*user);
  EXPECT_EQ(catalog->entries().size(), before + 1);
  auto replaced = catalog->find("debian-12", Arch::x86_64);
  ASSERT_TRUE(replaced);
  EXPECT_EQ(replaced->description, "mine");
  EXPECT_EQ(replaced->origin, "user.json");
  EXPECT_EQ(detail::manifest_name_of(*replaced->initrd), "initrd.img");
  EXPECT_EQ(detail::manifest_name_of(*replaced->kernel), "k");
  auto tiny = catalog->find("tiny:aarch64");
  ASSERT_TRUE(tiny);
  EXPECT_EQ(tiny->disk_format, DiskFormat::raw);
  EXPECT_EQ(tiny->disk->manifest_kind, ManifestKind::sha512sums);
}

TEST(Catalog, LoadReadsTheEnvironmentAndFiles) {
  support::TempDir dir;
  const auto file = dir.file("user.json", user_catalog);
  ::setenv("VMM_IMAGE_CATALOG", file.c_str(), 1);
  auto catalog = Catalog::load();
  ::unsetenv("VMM_IMAGE_CATALOG");
  ASSERT_TRUE(catalog) << catalog.error().to_string();
  EXPECT_TRUE(catalog->find("tiny:aarch64"));
  auto missing = Catalog::load({dir.path() / "nope.json"});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("nope.json"), std::string::npos);
}

struct BadDocument {
  const char* json;
  const char* expected;
};

TEST(Catalog, BadDocumentsNameThePath) {
  const BadDocument cases[] = {
      {"[]", "$: must be an object"},
      {"{", "not a JSON document"},
      {R"({"schema_version": 2, "images": []})", "$.schema_version"},
      {R"({"schema_version": 1})", "$.images"},
      {R"({"schema_version": 1, "images": [], "x": 1})", "unknown field \"x\""},
      {R"({"schema_version": 1, "images": [{"name": "A", "arch": "x86_64", "boot": "efi"}]})",
       "$.images[0].name"},
      {R"({"schema_version": 1, "images": [{"name": "a", "arch": "mips", "boot": "efi"}]})",
       "$.images[0].arch"},
      {R"({"schema_version": 1, "images": [{"name": "a", "arch": "x86_64", "boot": "efi"}]})",
       "$.images[0].disk: missing"},
      {R"({"schema_version": 1, "images": [{"name": "a", "arch": "x86_64", "boot": "efi",
          "disk": {"url": "ftp://h/x"}}]})", "$.images[0].disk.url"},
      {R"({"schema_version": 1, "images": [{"name": "a", "arch": "x86_64", "boot": "efi",
          "disk": {"url": "https://h/x"}}]})", "$.images[0].disk.checksums: missing"},
      {R"({"schema_version": 1, "images": [{"name": "a", "arch": "x86_64", "boot": "efi",
          "disk": {"url": "https://h/x", "checksums": {"url": "https://h/S", "kind": "md5"}}}]})",
       "$.images[0].disk.checksums.kind"},
      {R"({"schema_version": 1, "images": [{"name": "a", "arch": "x86_64", "boot": "efi",
          "disk": {"url": "https://h/", "checksums": {"url": "https://h/S", "kind": "sha256sums"}}}]})",
       "names no file"},
      {R"({"schema_version": 1, "images": [{"name": "a", "arch": "x86_64", "boot": "efi",
          "disk": {"url": "https://h/x", "format": "vmdk", "checksums": {"url": "https://h/S", "kind": "sha256sums"}}}]})",
       "$.images[0].disk.format"},
      {R"({"schema_version": 1, "images": [{"name": "a", "arch": "x86_64", "boot": "linux"}]})",
       "$.images[0].kernel: missing"},
  };
  for (const auto& c : cases) {
    auto parsed = Catalog::parse(c.json, "doc.json");
    ASSERT_FALSE(parsed) << c.json;
    EXPECT_EQ(parsed.error().code(), Errc::invalid_config);
    EXPECT_NE(parsed.error().message().find(c.expected), std::string::npos)
        << parsed.error().message() << "\nexpected: " << c.expected;
    EXPECT_EQ(parsed.error().message().rfind("doc.json: ", 0), 0u) << parsed.error().message();
  }
}

TEST(Catalog, DuplicateEntryInOneDocument) {
  const std::string one = R"({"name": "a", "arch": "x86_64", "boot": "efi",
      "disk": {"url": "https://h/x", "checksums": {"url": "https://h/S", "kind": "sha256sums"}}})";
  auto parsed = Catalog::parse(R"({"schema_version": 1, "images": [)" + one + "," + one + "]}", "d");
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message().find("defined twice"), std::string::npos);
}

}  // namespace
}  // namespace vmm::images
