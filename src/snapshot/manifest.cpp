// vmm: snapshot manifests (and the public read_snapshot_manifest).
#include "snapshot/manifest.hpp"

#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <system_error>
#include <utility>

#include "config/json.hpp"
#include "config/validation.hpp"
#include "config/json_reader.hpp"
#include "machine/backends.hpp"
#include "runtime/file_digest.hpp"

namespace vmm {
namespace detail {

namespace {

using nlohmann::json;

// The name inside a bundle must not climb out of it or collide with the manifest.
bool is_plain_file_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name != manifest_file_name &&
         name.find('/') == std::string::npos && name.find('\\') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

// "YYYY-MM-DDTHH:MM:SSZ", the shape utc_timestamp_now() writes.
bool is_utc_timestamp(const std::string& text) {
  static constexpr std::string_view shape = "dddd-dd-ddTdd:dd:ddZ";
  if (text.size() != shape.size()) return false;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    const char c = text[i];
    if (shape[i] == 'd' ? (c < '0' || c > '9') : c != shape[i]) return false;
  }
  return true;
}

// "digests": {"<state file>": "xxh3-128:<hex>"}: exactly the bundle's files besides the manifest.
std::map<std::string, std::string> read_digests(const JsonObject& o, const std::string& state_file) {
  const auto& value = o.at("digests");
  const std::string path = o.path_of("digests");
  if (!value.is_object()) json_fail(path, "expected an object, got " + json_type_name(value));
  std::map<std::string, std::string> digests;
  for (const auto& [name, digest] : value.items()) {
    const std::string item = path + "." + name;
    if (name != state_file) {
      json_fail(item, fmt::format("\"{}\" is not a file of the bundle (the state file is \"{}\")",
                                  name, state_file));
    }
    if (!digest.is_string()) json_fail(item, "expected a string, got " + json_type_name(digest));
    const auto text = digest.get<std::string>();
    if (!is_digest_text(text)) {
      json_fail(item, fmt::format("\"{}\" is not \"{}\" and 32 lowercase hex digits", text,
                                  digest_prefix));
    }
    digests.emplace(name, text);
  }
  if (!digests.contains(state_file)) json_fail(path + "." + state_file, "missing required field");
  return digests;
}

// "template": {"memory_file": "<name>", "memory_size": <bytes>}, checked against the state
// file's name and the config's memory.
TemplateMemory read_template(const json& value, const std::string& state_file,
                             std::uint64_t config_memory) {
  const JsonObject t(value, "$.template", {"memory_file", "memory_size"});
  TemplateMemory memory;
  memory.file = t.string("memory_file");
  if (!is_plain_file_name(memory.file) || memory.file == state_file) {
    json_fail(t.path_of("memory_file"),
              fmt::format("\"{}\" is not a file name inside the bundle other than the state file",
                          memory.file));
  }
  memory.size = t.unsigned_integer("memory_size", UINT64_MAX);
  if (memory.size != config_memory) {
    json_fail(t.path_of("memory_size"),
              fmt::format("{} bytes, but the config's memory is {} bytes", memory.size,
                          config_memory));
  }
  return memory;
}

// The config fields config_to_json() always writes ("rosetta_tag" only when set).
void require_config_fields(const json& config, const std::string& path) {
  if (!config.is_object()) return;  // config_from_json names the type error
  for (const char* field :
       {"schema_version", "cpus", "memory", "boot", "networks", "shares", "disks", "vsock",
        "serial", "entropy", "balloon", "nested_virtualization", "machine_identifier",
        "machine_identifier_generated"}) {
    if (!config.contains(field)) json_fail(path + "." + field, "missing required field");
  }
}

}  // namespace

std::string manifest_to_json(const SnapshotManifest& manifest) {
  // The config is embedded as an object, not a string, so that the manifest stays readable.
  json document{{"format_version", manifest.format_version},
                      {"backend", manifest.backend},
                      {"config", config_to_json(manifest.config)},
                      {"state_file", manifest.state_file},
                      {"created_at", manifest.created_at},
                      {"library_version", manifest.library_version}};
  if (manifest.format_version >= 2) document["digests"] = manifest.digests;
  if (manifest.serial_port) document["serial_port"] = *manifest.serial_port;
  if (manifest.template_memory) {
    document["template"] = {{"memory_file", manifest.template_memory->file},
                            {"memory_size", manifest.template_memory->size}};
  }
  return document.dump(2) + "\n";
}

Result<SnapshotManifest> parse_snapshot_manifest(std::string_view text) {
  auto parsed = parse_json_document(text, "$: manifest JSON");
  if (!parsed) return std::move(parsed).error();
  const json document = std::move(*parsed);
  std::string backend;
  std::string state_file;
  std::string created_at;
  std::string library_version;
  std::optional<bool> serial_port;
  std::map<std::string, std::string> digests;
  std::int64_t version = 0;
  try {
    const JsonObject o(document, "$",
                       {"format_version", "backend", "config", "state_file", "created_at",
                        "library_version", "serial_port", "digests", "template"});
    // The version first: a newer format may differ in every other field.
    version = o.integer("format_version");
    if (version < SnapshotManifest::oldest_format_version ||
        version > SnapshotManifest::current_format_version) {
      json_fail(o.path_of("format_version"),
                fmt::format("version {} is not supported (this library reads versions {} to {})",
                            version, SnapshotManifest::oldest_format_version,
                            SnapshotManifest::current_format_version));
    }
    backend = o.string("backend");
    if (!backend_named(backend)) {  // the names are the backend table's
      std::string choices;
      for (const auto& entry : backend_table()) {
        choices += (choices.empty() ? "\"" : ", \"") + std::string(entry.name) + "\"";
      }
      json_fail(o.path_of("backend"), fmt::format("\"{}\" is not one of {}", backend, choices));
    }
    o.at("config");  // required; read below, where its own errors carry "$.config..." paths
    state_file = o.string("state_file");
    if (!is_plain_file_name(state_file)) {
      json_fail(o.path_of("state_file"),
                fmt::format("\"{}\" is not a file name inside the bundle", state_file));
    }
    created_at = o.string("created_at");
    if (!is_utc_timestamp(created_at)) {
      json_fail(o.path_of("created_at"),
                fmt::format("\"{}\" is not an ISO 8601 UTC time (YYYY-MM-DDTHH:MM:SSZ)",
                            created_at));
    }
    library_version = o.string("library_version");
    if (o.has("serial_port")) serial_port = o.boolean("serial_port", false);
    if (version >= 2) {
      digests = read_digests(o, state_file);
    } else if (o.has("digests")) {
      json_fail(o.path_of("digests"), "not part of format version 1");
    }
    // A field the writer always writes must be there: a default would describe another VM.
    require_config_fields(o.at("config"), o.path_of("config"));
  } catch (const JsonPathError& e) {
    return make_error(Errc::invalid_config, e.what());
  }
  // The files and descriptors a saved config names are compared with the restoring VM's, not
  // opened: skip the host checks.
  auto config = config_from_json(document.at("config"), HostChecks::off, "$.config");
  if (!config) return std::move(config).error();
  std::optional<TemplateMemory> template_memory;
  if (document.contains("template")) {
    try {
      template_memory =
          read_template(document.at("template"), state_file, config->memory().as_bytes());
    } catch (const JsonPathError& e) {
      return make_error(Errc::invalid_config, e.what());
    }
  }

  return SnapshotManifest{
      .format_version = static_cast<int>(version),
      .backend = std::move(backend),
      .config = std::move(*config),
      .state_file = std::move(state_file),
      .created_at = std::move(created_at),
      .library_version = std::move(library_version),
      .serial_port = serial_port,
      .digests = std::move(digests),
      .template_memory = std::move(template_memory),
  };
}

std::string utc_timestamp_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  const std::size_t length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return std::string(text, length);
}

}  // namespace detail

Result<SnapshotManifest> read_snapshot_manifest(const std::filesystem::path& bundle) {
  const auto path = bundle / detail::manifest_file_name;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return make_error(Errc::not_found, "snapshot manifest " + path.string() + " does not exist");
  }
  std::ifstream in(path, std::ios::binary);
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (!in.is_open() || in.bad()) {
    return make_error(Errc::io, "snapshot manifest " + path.string() + " cannot be read");
  }
  auto manifest = detail::parse_snapshot_manifest(text);
  if (!manifest) {
    // "…/manifest.json: $.config.cpus: …": the file, then the path inside it.
    return make_error(manifest.error().code(),
                      path.string() + ": " + manifest.error().message());
  }
  return manifest;
}

}  // namespace vmm
