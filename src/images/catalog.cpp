// The image catalog: JSON documents (the built-in one, $VMM_IMAGE_CATALOG, the caller's files)
// read into ImageEntry values, merged by (name, arch), and looked up by "NAME[:ARCH]".
//
// Document shape (schema_version 1):
//   {"schema_version": 1, "images": [{"name": "debian-12", "arch": "x86_64",
//     "description": "...", "boot": "efi" | "linux", "command_line": "...",
//     "kernel": ASSET, "initrd": ASSET, "disk": ASSET + {"format": "raw" | "qcow2"}}]}
//   ASSET: {"url": "https://...", "checksums": {"url": "https://.../SHA256SUMS",
//           "kind": "sha256sums" | "sha512sums" | "fedora_checksum", "file": "name in it"}}
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "images/catalog_internal.hpp"
#include "runtime/posix.hpp"

namespace vmm::images {
namespace {

using nlohmann::json;

Error bad(std::string_view origin, const std::string& where, std::string_view what) {
  return Error(Errc::invalid_config, std::string(origin) + ": " + where + ": " + std::string(what));
}

Result<std::string> string_field(const json& object, const char* key, std::string_view origin,
                                 const std::string& where, bool required) {
  const auto it = object.find(key);
  if (it == object.end()) {
    if (required) return bad(origin, where + "." + key, "missing");
    return std::string();
  }
  if (!it->is_string()) return bad(origin, where + "." + key, "must be a string");
  return it->get<std::string>();
}

Result<void> check_keys(const json& object, std::initializer_list<const char*> known,
                        std::string_view origin, const std::string& where) {
  for (const auto& item : object.items()) {
    bool ok = false;
    for (const char* key : known) ok = ok || item.key() == key;
    if (!ok) return bad(origin, where, "unknown field \"" + item.key() + "\"");
  }
  return {};
}

Result<Asset> parse_asset(const json& value, std::string_view origin, const std::string& where,
                          bool allow_format) {
  if (!value.is_object()) return bad(origin, where, "must be an object");
  auto keys = allow_format ? check_keys(value, {"url", "checksums", "format"}, origin, where)
                           : check_keys(value, {"url", "checksums"}, origin, where);
  if (!keys) return std::move(keys).error();
  Asset asset;
  auto url = string_field(value, "url", origin, where, true);
  if (!url) return std::move(url).error();
  asset.url = *url;
  if (auto ok = detail::check_url(asset.url); !ok) return bad(origin, where + ".url", ok.error().message());
  const auto sums = value.find("checksums");
  if (sums == value.end()) return bad(origin, where + ".checksums", "missing: every asset is verified");
  if (!sums->is_object()) return bad(origin, where + ".checksums", "must be an object");
  const std::string sums_where = where + ".checksums";
  if (auto k = check_keys(*sums, {"url", "kind", "file"}, origin, sums_where); !k) return std::move(k).error();
  auto manifest_url = string_field(*sums, "url", origin, sums_where, true);
  if (!manifest_url) return std::move(manifest_url).error();
  asset.manifest_url = *manifest_url;
  if (auto ok = detail::check_url(asset.manifest_url); !ok) {
    return bad(origin, sums_where + ".url", ok.error().message());
  }
  auto kind = string_field(*sums, "kind", origin, sums_where, true);
  if (!kind) return std::move(kind).error();
  if (*kind == "sha256sums") asset.manifest_kind = ManifestKind::sha256sums;
  else if (*kind == "sha512sums") asset.manifest_kind = ManifestKind::sha512sums;
  else if (*kind == "fedora_checksum") asset.manifest_kind = ManifestKind::fedora_checksum;
  else return bad(origin, sums_where + ".kind", "\"" + *kind + "\" is not sha256sums, sha512sums or fedora_checksum");
  auto file = string_field(*sums, "file", origin, sums_where, false);
  if (!file) return std::move(file).error();
  asset.manifest_name = *file;
  if (detail::manifest_name_of(asset).empty()) {
    return bad(origin, where + ".url", "names no file (give checksums.file)");
  }
  return asset;
}

Result<ImageEntry> parse_entry(const json& value, std::string_view origin, const std::string& where) {
  if (!value.is_object()) return bad(origin, where, "must be an object");
  if (auto k = check_keys(value, {"name", "arch", "description", "boot", "command_line", "kernel",
                                  "initrd", "disk"}, origin, where); !k) {
    return std::move(k).error();
  }
  ImageEntry entry;
  entry.origin = std::string(origin);
  auto name = string_field(value, "name", origin, where, true);
  if (!name) return std::move(name).error();
  if (auto ok = detail::check_image_name(*name); !ok) return bad(origin, where + ".name", ok.error().message());
  entry.name = *name;
  auto arch = string_field(value, "arch", origin, where, true);
  if (!arch) return std::move(arch).error();
  auto parsed_arch = parse_arch(*arch);
  if (!parsed_arch) return bad(origin, where + ".arch", parsed_arch.error().message());
  entry.arch = *parsed_arch;
  auto description = string_field(value, "description", origin, where, false);
  if (!description) return std::move(description).error();
  entry.description = *description;
  auto command_line = string_field(value, "command_line", origin, where, false);
  if (!command_line) return std::move(command_line).error();
  entry.command_line = *command_line;
  auto boot = string_field(value, "boot", origin, where, true);
  if (!boot) return std::move(boot).error();
  if (*boot == "linux") entry.boot = BootKind::linux_direct;
  else if (*boot == "efi") entry.boot = BootKind::efi;
  else return bad(origin, where + ".boot", "\"" + *boot + "\" is not linux or efi");

  for (const char* part : {"kernel", "initrd", "disk"}) {
    const auto it = value.find(part);
    if (it == value.end()) continue;
    auto asset = parse_asset(*it, origin, where + "." + part, std::string_view(part) == "disk");
    if (!asset) return std::move(asset).error();
    if (std::string_view(part) == "kernel") entry.kernel = std::move(*asset);
    else if (std::string_view(part) == "initrd") entry.initrd = std::move(*asset);
    else entry.disk = std::move(*asset);
  }
  if (entry.disk) {
    auto format = string_field(value["disk"], "format", origin, where + ".disk", false);
    if (!format) return std::move(format).error();
    if (format->empty() || *format == "raw") entry.disk_format = DiskFormat::raw;
    else if (*format == "qcow2") entry.disk_format = DiskFormat::qcow2;
    else return bad(origin, where + ".disk.format", "\"" + *format + "\" is not raw or qcow2");
  }
  if (entry.boot == BootKind::linux_direct && !entry.kernel) {
    return bad(origin, where + ".kernel", "missing: a linux-boot image needs a kernel");
  }
  if (entry.boot == BootKind::efi && (entry.kernel || entry.initrd)) {
    return bad(origin, where, "an efi image boots from its disk: no kernel or initrd");
  }
  if (entry.boot == BootKind::efi && !entry.disk) {
    return bad(origin, where + ".disk", "missing: an efi image needs a disk");
  }
  return entry;
}

}  // namespace

Result<Catalog> Catalog::parse(std::string_view text, std::string_view origin) {
  const json document = json::parse(text, nullptr, false);
  if (document.is_discarded()) return bad(origin, "$", "not a JSON document");
  if (!document.is_object()) return bad(origin, "$", "must be an object");
  if (auto k = check_keys(document, {"schema_version", "images"}, origin, "$"); !k) return std::move(k).error();
  const auto version = document.find("schema_version");
  if (version == document.end() || !version->is_number_integer() || version->get<long long>() != 1) {
    return bad(origin, "$.schema_version", "must be 1");
  }
  const auto images = document.find("images");
  if (images == document.end() || !images->is_array()) return bad(origin, "$.images", "must be an array");
  Catalog catalog;
  std::set<std::pair<std::string, Arch>> seen;
  for (std::size_t i = 0; i < images->size(); ++i) {
    const std::string where = "$.images[" + std::to_string(i) + "]";
    auto entry = parse_entry((*images)[i], origin, where);
    if (!entry) return std::move(entry).error();
    if (!seen.emplace(entry->name, entry->arch).second) {
      return bad(origin, where, entry->name + ":" + std::string(to_string(entry->arch)) +
                                    " is defined twice");
    }
    catalog.entries_.push_back(std::move(*entry));
  }
  return catalog;
}

Result<Catalog> Catalog::builtin() { return parse(detail::builtin_catalog_json(), "built-in catalog"); }

Result<Catalog> Catalog::load(const std::vector<std::filesystem::path>& files) {
  auto catalog = builtin();
  if (!catalog) return catalog;
  std::vector<std::filesystem::path> all;
  if (const char* env = std::getenv("VMM_IMAGE_CATALOG"); env != nullptr) {
    std::string_view list(env);
    while (!list.empty()) {
      const auto colon = list.find(':');
      if (colon != 0) all.emplace_back(std::string(list.substr(0, colon)));
      if (colon == std::string_view::npos) break;
      list.remove_prefix(colon + 1);
    }
  }
  all.insert(all.end(), files.begin(), files.end());
  for (const auto& file : all) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return Error(Errc::not_found, "image catalog " + vmm::detail::quoted(file) + " cannot be read");
    std::ostringstream text;
    text << in.rdbuf();
    auto more = parse(text.str(), file.string());
    if (!more) return more;
    catalog->merge(*more);
  }
  return catalog;
}

void Catalog::merge(const Catalog& other) {
  for (const auto& entry : other.entries_) {
    auto same = std::find_if(entries_.begin(), entries_.end(), [&](const ImageEntry& e) {
      return e.name == entry.name && e.arch == entry.arch;
    });
    if (same != entries_.end()) *same = entry;
    else entries_.push_back(entry);
  }
}

Result<ImageEntry> Catalog::find(std::string_view spec) const {
  const auto colon = spec.rfind(':');
  if (colon == std::string_view::npos) return find(spec, host_arch());
  auto arch = parse_arch(spec.substr(colon + 1));
  if (!arch) return std::move(arch).error();
  return find(spec.substr(0, colon), *arch);
}

Result<ImageEntry> Catalog::find(std::string_view name, Arch arch) const {
  for (const auto& entry : entries_) {
    if (entry.name == name && entry.arch == arch) return entry;
  }
  std::string known;
  for (const auto& entry : entries_) {
    known += (known.empty() ? "" : ", ") + entry.name + ":" + std::string(to_string(entry.arch));
  }
  return Error(Errc::not_found, "no image \"" + std::string(name) + "\" for " +
                                    std::string(to_string(arch)) + " in the catalog; it has: " +
                                    (known.empty() ? "nothing" : known));
}

}  // namespace vmm::images
