#include "config/json.hpp"

#include <fmt/format.h>

#include <limits>

#include "config/access.hpp"
#include "config/disk_limits.hpp"
#include "config/enum_names.hpp"
#include "config/json_reader.hpp"

namespace vmm {
namespace detail {
namespace {

using nlohmann::json;

std::string to_hex(const std::vector<std::uint8_t>& bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (auto b : bytes) out += fmt::format("{:02x}", b);
  return out;
}

std::vector<std::uint8_t> from_hex(const std::string& text, const std::string& path) {
  auto nibble = [&](char c) -> std::uint8_t {
    if (c >= '0' && c <= '9') return static_cast<std::uint8_t>(c - '0');
    if (c >= 'a' && c <= 'f') return static_cast<std::uint8_t>(c - 'a' + 10);
    if (c >= 'A' && c <= 'F') return static_cast<std::uint8_t>(c - 'A' + 10);
    json_fail(path, fmt::format("\"{}\" is not hexadecimal", text));
  };
  if (text.size() % 2 != 0)
    json_fail(path, fmt::format("\"{}\" has an odd number of hexadecimal digits", text));
  std::vector<std::uint8_t> bytes;
  for (std::size_t i = 0; i < text.size(); i += 2)
    bytes.push_back(static_cast<std::uint8_t>(nibble(text[i]) * 16 + nibble(text[i + 1])));
  return bytes;
}

const json& array_at(const JsonObject& object, std::string_view key) {
  const auto& v = object.at(key);
  if (!v.is_array()) json_fail(object.path_of(key), "expected an array, got " + json_type_name(v));
  return v;
}

template <typename E, std::size_t N>
E enum_field(const JsonObject& object, std::string_view key, const NameTable<E, N>& table,
             E fallback) {
  if (!object.has(key)) return fallback;
  const auto name = object.string(key);
  if (auto value = value_of(table, name)) return *value;
  std::string choices;
  for (const auto& [v, n] : table) choices += fmt::format("{}\"{}\"", choices.empty() ? "" : ", ", n);
  json_fail(object.path_of(key), fmt::format("\"{}\" is not one of {}", name, choices));
}

// The kind named by the "type" field, as an alternative index of V; an unknown name fails listing
// the table's names (config/enum_names.hpp).
template <typename V>
std::size_t kind_field(const JsonObject& object, const KindTable<V>& table) {
  const auto name = object.string("type");
  if (auto index = kind_index(table, name)) return *index;
  std::string choices;
  for (const auto n : table.names) choices += fmt::format("{}\"{}\"", choices.empty() ? "" : ", ", n);
  json_fail(object.path_of("type"), fmt::format("\"{}\" is not one of {}", name, choices));
}

// ---- writing ----

json network_to_json(const NetworkDevice& network) {
  json j{{"type", std::string(network_kind(network.attachment))}, {"mac", network.mac.to_string()}};
  if (const auto* nat = std::get_if<NatNetwork>(&network.attachment)) {
    // Written only when present, so that documents without forwards stay as they were.
    if (!nat->forwards.empty()) {
      json forwards = json::array();
      for (const auto& f : nat->forwards) {
        forwards.push_back(json{{"protocol", std::string(to_string(f.protocol))},
                                {"host_address", f.host_address},
                                {"host_port", f.host_port},
                                {"guest_port", f.guest_port}});
      }
      j["forwards"] = std::move(forwards);
    }
  } else if (const auto* bridged = std::get_if<BridgedNetwork>(&network.attachment)) {
    j["interface"] = bridged->interface;
  } else if (const auto* handle = std::get_if<FileHandleNetwork>(&network.attachment)) {
    j["fd"] = handle->fd;
    j["mtu"] = handle->mtu;
  } else if (const auto* unix_dgram = std::get_if<UnixDatagramNetwork>(&network.attachment)) {
    j["socket"] = unix_dgram->socket.string();
    j["mtu"] = unix_dgram->mtu;
  } else if (const auto* vmnet = std::get_if<VmnetNetwork>(&network.attachment)) {
    if (vmnet->subnet) j["subnet"] = *vmnet->subnet;
  } else if (const auto* tap = std::get_if<TapNetwork>(&network.attachment)) {
    j["ifname"] = tap->ifname;
  }
  return j;
}

json directory_to_json(const SharedDirectory& dir) {
  return json{{"directory", dir.directory.string()}, {"read_only", dir.read_only}};
}

json share_to_json(const VirtiofsShare& share) {
  json j{{"tag", share.tag}};
  if (const auto* single = std::get_if<SharedDirectory>(&share.source)) {
    j["directory"] = single->directory.string();
    j["read_only"] = single->read_only;
  } else {
    json dirs = json::object();
    for (const auto& [name, dir] : std::get<std::map<std::string, SharedDirectory>>(share.source))
      dirs[name] = directory_to_json(dir);
    j["directories"] = std::move(dirs);
  }
  return j;
}

json disk_to_json(const DiskImage& disk) {
  json j{{"path", disk.path.string()},
         {"format", to_string(disk.format)},
         {"read_only", disk.read_only},
         {"caching", to_string(disk.caching)},
         {"sync", to_string(disk.sync)},
         {"bus", to_string(disk.bus)}};
  if (disk.device_id) j["device_id"] = *disk.device_id;
  // Written only when a limit is set, and only the limits set, so that documents without limits
  // stay as they were. A burst's fields only with a burst (build() refuses them without one).
  json limits = json::object();
  for (const auto& entry : kDiskLimitFields) {
    const auto& rate = disk.limits.*entry.member;
    if (!rate.limited()) continue;
    json r{{"per_second", rate.per_second}};
    if (rate.burst != 0) {
      r["burst"] = rate.burst;
      r["burst_seconds"] = rate.burst_seconds;
    }
    limits[std::string(entry.name)] = std::move(r);
  }
  if (!limits.empty()) j["limits"] = std::move(limits);
  return j;
}

json boot_to_json(const Boot& boot) {
  if (const auto* linux_boot = std::get_if<LinuxBoot>(&boot)) {
    json j{{"type", kind_name(kBootKindNames, boot)},
           {"kernel", linux_boot->kernel.string()},
           {"command_line", linux_boot->command_line},
           {"extra_command_line", linux_boot->extra_command_line}};
    if (linux_boot->initrd) j["initrd"] = linux_boot->initrd->string();
    return j;
  }
  const auto& efi = std::get<EfiBoot>(boot);
  return json{{"type", kind_name(kBootKindNames, boot)},
              {"variable_store", efi.variable_store.string()},
              {"create_if_missing", efi.create_if_missing}};
}

// ---- reading ----

void read_boot(const json& value, const std::string& path, VmConfigBuilder& builder) {
  const JsonObject probe(value, path, {"type", "kernel", "initrd", "command_line",
                                       "extra_command_line", "variable_store", "create_if_missing"});
  const std::size_t kind = kind_field(probe, kBootKindNames);
  if (kind == alternative_index<Boot, LinuxBoot>) {
    const JsonObject o(value, path, {"type", "kernel", "initrd", "command_line", "extra_command_line"});
    LinuxBoot boot;
    boot.kernel = o.string("kernel");
    if (auto initrd = o.optional_string("initrd")) boot.initrd = *initrd;
    boot.command_line = o.optional_string("command_line").value_or("");
    if (o.has("extra_command_line")) {
      const auto& fragments = array_at(o, "extra_command_line");
      for (std::size_t i = 0; i < fragments.size(); ++i) {
        if (!fragments[i].is_string())
          json_fail(fmt::format("{}.extra_command_line[{}]", path, i),
                    "expected a string, got " + json_type_name(fragments[i]));
        boot.extra_command_line.push_back(fragments[i].get<std::string>());
      }
    }
    builder.linux_boot(std::move(boot));
  } else {  // EfiBoot
    const JsonObject o(value, path, {"type", "variable_store", "create_if_missing"});
    builder.efi_boot(EfiBoot{o.string("variable_store"), o.boolean("create_if_missing", true)});
  }
}

std::uint32_t read_mtu(const JsonObject& o) {
  return static_cast<std::uint32_t>(o.optional_unsigned("mtu", 65535).value_or(1500));
}

PortForward read_forward(const json& value, const std::string& path) {
  const JsonObject o(value, path, {"protocol", "host_address", "host_port", "guest_port"});
  PortForward forward;
  forward.protocol = enum_field(o, "protocol", kProtocolNames, forward.protocol);
  if (auto address = o.optional_string("host_address")) forward.host_address = *address;
  // Ranges are the builder's rule (port_forwards.cpp); here only what fits the field.
  forward.host_port = static_cast<std::uint32_t>(o.unsigned_integer("host_port", UINT32_MAX));
  forward.guest_port = static_cast<std::uint32_t>(o.unsigned_integer("guest_port", UINT32_MAX));
  return forward;
}

void read_network(const json& value, const std::string& path, VmConfigBuilder& builder) {
  const JsonObject probe(value, path,
                         {"type", "mac", "interface", "fd", "mtu", "socket", "subnet", "ifname",
                          "forwards"});
  const std::size_t kind = kind_field(probe, kNetworkKindNames);
  std::optional<MacAddress> mac;
  if (auto text = probe.optional_string("mac")) {
    auto parsed = MacAddress::parse(*text);
    if (!parsed) json_fail(probe.path_of("mac"), parsed.error().message());
    mac = *parsed;
  }
  switch (kind) {
    case alternative_index<NetworkAttachment, NatNetwork>: {
      const JsonObject o(value, path, {"type", "mac", "forwards"});
      NatNetwork nat;
      if (o.has("forwards")) {
        const auto& items = array_at(o, "forwards");
        for (std::size_t i = 0; i < items.size(); ++i)
          nat.forwards.push_back(
              read_forward(items[i], fmt::format("{}[{}]", o.path_of("forwards"), i)));
      }
      builder.network(std::move(nat), mac);
      break;
    }
    case alternative_index<NetworkAttachment, BridgedNetwork>: {
      const JsonObject o(value, path, {"type", "mac", "interface"});
      builder.network(BridgedNetwork{o.string("interface")}, mac);
      break;
    }
    case alternative_index<NetworkAttachment, FileHandleNetwork>: {
      const JsonObject o(value, path, {"type", "mac", "fd", "mtu"});
      builder.network(
          FileHandleNetwork{static_cast<int>(o.unsigned_integer("fd", INT32_MAX)), read_mtu(o)},
          mac);
      break;
    }
    case alternative_index<NetworkAttachment, UnixDatagramNetwork>: {
      const JsonObject o(value, path, {"type", "mac", "socket", "mtu"});
      builder.network(UnixDatagramNetwork{o.string("socket"), read_mtu(o)}, mac);
      break;
    }
    case alternative_index<NetworkAttachment, VmnetNetwork>: {
      const JsonObject o(value, path, {"type", "mac", "subnet"});
      builder.network(VmnetNetwork{o.optional_string("subnet")}, mac);
      break;
    }
    default: {  // TapNetwork, the last alternative
      static_assert(alternative_index<NetworkAttachment, TapNetwork> + 1 ==
                    std::variant_size_v<NetworkAttachment>);
      const JsonObject o(value, path, {"type", "mac", "ifname"});
      builder.network(TapNetwork{o.string("ifname")}, mac);
      break;
    }
  }
}

SharedDirectory read_directory(const json& value, const std::string& path) {
  const JsonObject o(value, path, {"directory", "read_only"});
  return SharedDirectory{o.string("directory"), o.boolean("read_only", false)};
}

void read_share(const json& value, const std::string& path, VmConfigBuilder& builder) {
  const JsonObject o(value, path, {"tag", "directory", "read_only", "directories"});
  VirtiofsShare share;
  share.tag = o.string("tag");
  if (o.has("directories")) {
    if (o.has("directory") || o.has("read_only"))
      json_fail(o.path_of("directories"), "give either \"directory\" or \"directories\", not both");
    const auto& dirs = o.at("directories");
    if (!dirs.is_object())
      json_fail(o.path_of("directories"), "expected an object, got " + json_type_name(dirs));
    std::map<std::string, SharedDirectory> map;
    for (const auto& item : dirs.items())
      map[item.key()] = read_directory(item.value(), fmt::format("{}.directories[\"{}\"]", path, item.key()));
    share.source = std::move(map);
  } else {
    share.source = SharedDirectory{o.string("directory"), o.boolean("read_only", false)};
  }
  builder.share(std::move(share));
}

// Every member is optional; absent means "no limit". Values above QEMU's ceiling are read as
// given and refused by build() with the field's name.
RateLimit read_rate_limit(const json& value, const std::string& path) {
  JsonObject o(value, path, {"per_second", "burst", "burst_seconds"});
  constexpr auto any = std::numeric_limits<std::uint64_t>::max();
  RateLimit rate;
  rate.per_second = o.optional_unsigned("per_second", any).value_or(0);
  rate.burst = o.optional_unsigned("burst", any).value_or(0);
  rate.burst_seconds = static_cast<std::uint32_t>(
      o.optional_unsigned("burst_seconds", std::numeric_limits<std::uint32_t>::max()).value_or(1));
  return rate;
}

DiskLimits read_disk_limits(const json& value, const std::string& path) {
  JsonObject o(value, path,
               {"read_bytes", "write_bytes", "total_bytes", "read_iops", "write_iops", "total_iops"});
  DiskLimits limits;
  for (const auto& entry : kDiskLimitFields) {
    if (o.has(entry.name))
      limits.*entry.member = read_rate_limit(o.at(entry.name), o.path_of(entry.name));
  }
  return limits;
}

void read_disk(const json& value, const std::string& path, VmConfigBuilder& builder) {
  const JsonObject o(value, path,
                     {"path", "format", "read_only", "caching", "sync", "bus", "device_id", "limits"});
  DiskImage disk;
  disk.path = o.string("path");
  disk.format = enum_field(o, "format", kDiskFormatNames, disk.format);
  disk.read_only = o.boolean("read_only", disk.read_only);
  disk.caching = enum_field(o, "caching", kCachingModeNames, disk.caching);
  disk.sync = enum_field(o, "sync", kSyncModeNames, disk.sync);
  disk.bus = enum_field(o, "bus", kBlockBusNames, disk.bus);
  disk.device_id = o.optional_string("device_id");
  if (o.has("limits")) disk.limits = read_disk_limits(o.at("limits"), o.path_of("limits"));
  builder.disk(std::move(disk));
}

void read_serial(const json& value, const std::string& path, VmConfigBuilder& builder) {
  const JsonObject probe(value, path, {"type", "path", "append", "fd"});
  const std::size_t kind = kind_field(probe, kSerialKindNames);
  if (kind == alternative_index<SerialConsole, std::monostate>) {
    const JsonObject o(value, path, {"type"});
    builder.serial(std::monostate{});
  } else if (kind == alternative_index<SerialConsole, SerialToFile>) {
    const JsonObject o(value, path, {"type", "path", "append"});
    builder.serial(SerialToFile{o.string("path"), o.boolean("append", true)});
  } else {  // SerialToFd
    const JsonObject o(value, path, {"type", "fd"});
    builder.serial(SerialToFd{static_cast<int>(o.unsigned_integer("fd", INT32_MAX))});
  }
}

void read_console_port(const json& value, const std::string& path, VmConfigBuilder& builder) {
  if (!value.is_string())
    json_fail(path, fmt::format("expected a string, got {}", json_type_name(value)));
  builder.console_port(value.get<std::string>());
}

template <typename Reader>
void read_array(const JsonObject& o, std::string_view key, VmConfigBuilder& builder, Reader reader) {
  if (!o.has(key)) return;
  const auto& items = array_at(o, key);
  for (std::size_t i = 0; i < items.size(); ++i)
    reader(items[i], fmt::format("{}[{}]", o.path_of(key), i), builder);
}

}  // namespace

nlohmann::json config_to_json(const VmConfig& config) {
  json networks = json::array();
  for (const auto& n : config.networks()) networks.push_back(network_to_json(n));
  json shares = json::array();
  for (const auto& s : config.shares()) shares.push_back(share_to_json(s));
  json disks = json::array();
  for (const auto& d : config.disks()) disks.push_back(disk_to_json(d));
  json serial{{"type", kind_name(kSerialKindNames, config.serial())}};
  if (const auto* file = std::get_if<SerialToFile>(&config.serial())) {
    serial["path"] = file->path.string();
    serial["append"] = file->append;
  } else if (const auto* fd = std::get_if<SerialToFd>(&config.serial())) {
    serial["fd"] = fd->fd;
  }

  json j{{"schema_version", VmConfig::schema_version},
         {"cpus", config.cpus()},
         {"memory", config.memory().to_string()},
         {"boot", boot_to_json(config.boot())},
         {"networks", std::move(networks)},
         {"shares", std::move(shares)},
         {"disks", std::move(disks)},
         {"vsock", config.vsock().has_value()},
         {"serial", std::move(serial)},
         {"entropy", config.entropy()},
         {"balloon", config.balloon().has_value()},
         {"nested_virtualization", config.nested_virtualization()},
         {"machine_identifier", to_hex(config.machine_identifier())},
         {"machine_identifier_generated", config.machine_identifier_generated()}};
  if (config.rosetta_tag()) j["rosetta_tag"] = *config.rosetta_tag();
  // Written only when present, so that documents of configs without ports stay as they were.
  if (!config.console_ports().empty()) {
    json ports = json::array();
    for (const auto& port : config.console_ports()) ports.push_back(port.name);
    j["console_ports"] = std::move(ports);
  }
  return j;
}

Result<VmConfig> config_from_json(const nlohmann::json& document, HostChecks host,
                                  const std::string& path) {
  VmConfigBuilder builder;
  bool generated = false;
  try {
    const JsonObject o(document, path,
                       {"schema_version", "cpus", "memory", "boot", "networks", "shares", "disks",
                        "vsock", "serial", "console_ports", "entropy", "balloon", "rosetta_tag",
                        "nested_virtualization", "machine_identifier",
                        "machine_identifier_generated"});
    const auto version = o.integer("schema_version");
    if (version != VmConfig::schema_version)
      json_fail(o.path_of("schema_version"),
                fmt::format("version {} is not supported (this library reads version {})", version,
                            VmConfig::schema_version));
    if (o.has("cpus")) {
      // The builder's own range, in its words, rather than the integer type's.
      const auto cpus = o.integer("cpus");
      if (cpus < VmConfig::min_cpus) {
        json_fail(o.path_of("cpus"),
                  fmt::format("{} is below the minimum of {}", cpus, VmConfig::min_cpus));
      }
      if (cpus > VmConfig::max_cpus) {
        json_fail(o.path_of("cpus"),
                  fmt::format("{} is above the maximum of {}", cpus, VmConfig::max_cpus));
      }
      builder.cpus(static_cast<std::uint32_t>(cpus));
    }
    if (o.has("memory")) {
      const auto& memory = o.at("memory");
      if (memory.is_number_integer()) {
        builder.memory(Size::bytes(o.unsigned_integer("memory", UINT64_MAX)));
      } else {
        auto size = Size::parse(o.string("memory"));
        if (!size) json_fail(o.path_of("memory"), size.error().message());
        builder.memory(*size);
      }
    }
    read_boot(o.at("boot"), o.path_of("boot"), builder);
    read_array(o, "networks", builder, read_network);
    read_array(o, "shares", builder, read_share);
    read_array(o, "disks", builder, read_disk);
    if (o.boolean("vsock", false)) builder.vsock();
    if (o.has("serial")) read_serial(o.at("serial"), o.path_of("serial"), builder);
    read_array(o, "console_ports", builder, read_console_port);
    builder.entropy(o.boolean("entropy", false));
    if (o.boolean("balloon", false)) builder.balloon();
    if (auto tag = o.optional_string("rosetta_tag")) builder.rosetta(*tag);
    builder.nested_virtualization(o.boolean("nested_virtualization", false));
    if (auto id = o.optional_string("machine_identifier"))
      builder.machine_identifier(from_hex(*id, o.path_of("machine_identifier")));
    generated = o.boolean("machine_identifier_generated", false);
  } catch (const JsonPathError& e) {
    return make_error(Errc::invalid_config, e.what());
  } catch (const nlohmann::json::exception& e) {
    // The readers check types before converting; this is the net under them, so that no
    // document can escape as an exception.
    return make_error(Errc::invalid_config, fmt::format("{}: {}", path, e.what()));
  }
  auto config = host == HostChecks::on ? builder.build()
                                       : ConfigAccess::build_without_host_checks(builder);
  if (!config) {
    // The builder names fields relative to the config ("disks[0].path: ..."); give the full
    // JSON path, as the structural errors do.
    return make_error(config.error().code(), fmt::format("{}.{}", path, config.error().message()));
  }
  if (generated) ConfigAccess::set_machine_identifier_generated(*config, true);
  return config;
}

}  // namespace detail

std::string VmConfig::to_json() const { return detail::config_to_json(*this).dump(2); }

Result<VmConfig> VmConfig::from_json(std::string_view text) {
  auto document = detail::parse_json_document(text, "config JSON");
  if (!document) return std::move(document).error();
  return detail::config_from_json(*document, detail::HostChecks::on);
}

}  // namespace vmm
