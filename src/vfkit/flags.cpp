#include "vfkit/flags.hpp"

#include <string_view>

#include "vfkit/options.hpp"

namespace vmm::vfkit::detail {
namespace {

enum class Kind { text, boolean, slice, array };

struct FlagDef {
  std::string_view name;
  char shorthand;  // 0: none
  Kind kind;
  bool describes_machine;
};

// vfkit's flags (pkg/cmdline/cmdline.go) plus cobra's --help and --version.
constexpr FlagDef flag_defs[] = {
    {"kernel", 'k', Kind::text, true},       {"kernel-cmdline", 'C', Kind::text, true},
    {"initrd", 'i', Kind::text, true},       {"bootloader", 'b', Kind::slice, true},
    {"gui", 0, Kind::boolean, true},         {"cpus", 'c', Kind::text, true},
    {"memory", 'm', Kind::text, true},       {"timesync", 't', Kind::text, false},
    {"device", 'd', Kind::array, true},      {"log-level", 0, Kind::text, false},
    {"restful-uri", 0, Kind::text, false},   {"ignition", 0, Kind::text, false},
    {"cloud-init", 0, Kind::slice, false},   {"nested", 'n', Kind::boolean, true},
    {"pidfile", 0, Kind::text, false},       {"help", 'h', Kind::boolean, false},
    {"version", 'v', Kind::boolean, false},
};

// strconv.ParseBool, as pflag reads --nested=VALUE.
std::optional<bool> parse_bool(std::string_view text) {
  for (auto t : {"1", "t", "T", "TRUE", "true", "True"})
    if (text == t) return true;
  for (auto f : {"0", "f", "F", "FALSE", "false", "False"})
    if (text == f) return false;
  return std::nullopt;
}

Result<void> store(RawFlags& flags, const FlagDef& def, std::string value) {
  const std::string flag = "--" + std::string(def.name);
  if (def.describes_machine) flags.machine_flags = true;
  if (def.kind == Kind::boolean) {
    const auto on = parse_bool(value);
    if (!on) return bad("invalid argument \"" + value + "\" for " + flag + ": not true or false");
    if (def.name == "gui") flags.gui = *on;
    else if (def.name == "nested") flags.nested = *on;
    else if (def.name == "help") flags.help = *on;
    else flags.version = *on;
    return {};
  }
  if (def.kind == Kind::slice) {
    auto pieces = split_quoted(flag, value);
    if (!pieces) return std::move(pieces).error();
    auto& slot = def.name == "bootloader" ? flags.bootloader : flags.cloud_init;
    if (!slot) slot.emplace();
    slot->insert(slot->end(), pieces->begin(), pieces->end());
    return {};
  }
  if (def.kind == Kind::array) {
    flags.devices.push_back(std::move(value));
    return {};
  }
  std::optional<std::string>* slot = nullptr;
  if (def.name == "kernel") slot = &flags.kernel;
  else if (def.name == "kernel-cmdline") slot = &flags.kernel_cmdline;
  else if (def.name == "initrd") slot = &flags.initrd;
  else if (def.name == "cpus") slot = &flags.cpus;
  else if (def.name == "memory") slot = &flags.memory;
  else if (def.name == "timesync") slot = &flags.timesync;
  else if (def.name == "log-level") slot = &flags.log_level;
  else if (def.name == "restful-uri") slot = &flags.restful_uri;
  else if (def.name == "ignition") slot = &flags.ignition;
  else slot = &flags.pidfile;
  *slot = std::move(value);  // the last one wins, as with pflag
  return {};
}

const FlagDef* find_long(std::string_view name) {
  for (const auto& def : flag_defs)
    if (def.name == name) return &def;
  return nullptr;
}

const FlagDef* find_short(char c) {
  for (const auto& def : flag_defs)
    if (def.shorthand == c) return &def;
  return nullptr;
}

const ExtraFlag* find_extra(std::span<const ExtraFlag> extras, std::string_view name) {
  for (const auto& extra : extras)
    if (extra.name == name) return &extra;
  return nullptr;
}

}  // namespace

Result<RawFlags> read_flags(std::span<const std::string> args, std::span<const ExtraFlag> extras) {
  RawFlags flags;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg == "--") {
      if (i + 1 < args.size()) return bad("unexpected argument " + args[i + 1]);
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') return bad("unexpected argument " + std::string(arg));
    if (arg.starts_with("--")) {
      const auto equals = arg.find('=');
      const auto name = arg.substr(2, equals == arg.npos ? arg.npos : equals - 2);
      std::optional<std::string> value;
      if (equals != arg.npos) value = std::string(arg.substr(equals + 1));
      if (const auto* extra = find_extra(extras, arg.substr(0, equals))) {
        if (!extra->takes_value) {
          if (value) return bad(std::string(extra->name) + " takes no value");
          flags.extras.emplace_back(extra->name, "");
          continue;
        }
        if (!value) {
          if (i + 1 >= args.size()) return bad(std::string(extra->name) + " needs a value");
          value = args[++i];
        }
        flags.extras.emplace_back(extra->name, std::move(*value));
        continue;
      }
      const auto* def = find_long(name);
      if (!def) return bad("unknown flag --" + std::string(name));
      if (!value) {
        if (def->kind == Kind::boolean) value = "true";
        else if (i + 1 >= args.size()) return bad("--" + std::string(name) + " needs a value");
        else value = args[++i];
      }
      if (auto stored = store(flags, *def, std::move(*value)); !stored) return std::move(stored).error();
      continue;
    }
    // Shorthands: "-n", "-c2", "-c=2", "-c 2", grouped booleans "-nc 2".
    for (std::size_t j = 1; j < arg.size(); ++j) {
      const auto* def = find_short(arg[j]);
      if (!def)
        return bad("unknown shorthand flag '" + std::string(1, arg[j]) + "' in " + std::string(arg));
      std::string value;
      if (def->kind == Kind::boolean) {
        value = "true";
        if (j + 1 < arg.size() && arg[j + 1] == '=') {
          value = std::string(arg.substr(j + 2));
          j = arg.size();
        }
      } else if (j + 1 < arg.size()) {
        value = std::string(arg.substr(arg[j + 1] == '=' ? j + 2 : j + 1));
        j = arg.size();
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return bad("-" + std::string(1, arg[j]) + " (--" + std::string(def->name) + ") needs a value");
      }
      if (auto stored = store(flags, *def, std::move(value)); !stored) return std::move(stored).error();
    }
  }
  return flags;
}

}  // namespace vmm::vfkit::detail
