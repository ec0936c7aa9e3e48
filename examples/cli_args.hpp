// The examples' command-line handling, shared and unit-tested (tests/core/cli_args_test.cpp):
// every flag is known or an error, every number is checked, and each error names its flag.
// Header-only because every examples/*.cpp is one program (see examples/CMakeLists.txt).
#pragma once

#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <vmm/vmm.hpp>

namespace vmm_examples {

// The flags a program takes: those followed by a value, those on their own, and how many
// plain arguments (not starting with "--") it accepts. "--help" is always known.
struct FlagSpec {
  std::vector<std::string_view> with_value;
  std::vector<std::string_view> switches;
  std::size_t max_positionals = 0;
};

struct ParsedArgs {
  bool help = false;
  std::vector<std::pair<std::string, std::string>> flags;  // in command-line order; switches: ""
  std::vector<std::string> positionals;
};

inline bool contains(const std::vector<std::string_view>& names, std::string_view name) {
  for (const auto n : names)
    if (n == name) return true;
  return false;
}

// Splits argv by `spec`. An unknown flag is reported as unknown wherever it is (also last);
// a known flag without a value says so.
inline vmm::Result<ParsedArgs> parse_args(const FlagSpec& spec, int argc,
                                          const char* const* argv) {
  ParsedArgs parsed;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      parsed.help = true;
    } else if (contains(spec.switches, arg)) {
      parsed.flags.emplace_back(arg, "");
    } else if (contains(spec.with_value, arg)) {
      if (i + 1 >= argc) return vmm::make_error(vmm::Errc::invalid_config, std::string(arg) + " needs a value");
      parsed.flags.emplace_back(arg, argv[++i]);
    } else if (arg.starts_with("-")) {
      return vmm::make_error(vmm::Errc::invalid_config, "unknown flag " + std::string(arg));
    } else if (parsed.positionals.size() < spec.max_positionals) {
      parsed.positionals.emplace_back(arg);
    } else {
      return vmm::make_error(vmm::Errc::invalid_config, "unexpected argument " + std::string(arg));
    }
  }
  return parsed;
}

// A whole decimal number in [min, max] given to `flag`: no sign, no spaces, no trailing text.
inline vmm::Result<std::uint64_t> parse_number(std::string_view flag, std::string_view text,
                                               std::uint64_t min, std::uint64_t max) {
  const auto bad = [&](std::string_view why) {
    return vmm::make_error(vmm::Errc::invalid_config,
                           std::string(flag) + ": \"" + std::string(text) + "\" " + std::string(why));
  };
  const auto range = "is not a whole number from " + std::to_string(min) + " to " + std::to_string(max);
  std::uint64_t value = 0;
  if (text.empty() || text.front() < '0' || text.front() > '9') return bad(range);
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range) return bad(range);
  if (ec != std::errc() || end != text.data() + text.size()) return bad(range);
  if (value < min || value > max) return bad(range);
  return value;
}

inline vmm::Result<std::uint32_t> parse_u32(std::string_view flag, std::string_view text,
                                            std::uint32_t min = 0) {
  auto n = parse_number(flag, text, min, std::numeric_limits<std::uint32_t>::max());
  if (!n) return std::move(n).error();
  return static_cast<std::uint32_t>(*n);
}

// A size such as "512MiB", its error prefixed with the flag.
inline vmm::Result<vmm::Size> parse_size(std::string_view flag, std::string_view text) {
  auto size = vmm::Size::parse(text);
  if (!size) return vmm::Error(size.error().code(), std::string(flag) + ": " + size.error().message());
  return *size;
}

// The JSON library's own tag ("[json.exception.parse_error.101] ") means nothing to a user.
inline std::string without_json_tag(std::string message) {
  const auto tag = message.find("[json.exception.");
  if (tag == std::string::npos) return message;
  const auto close = message.find("] ", tag);
  if (close == std::string::npos) return message;
  message.erase(tag, close + 2 - tag);
  return message;
}

// Reads and validates a config file; errors name the file, and a directory is called one.
inline vmm::Result<vmm::VmConfig> load_config_file(const std::filesystem::path& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status))
    return vmm::make_error(vmm::Errc::not_found, path.string() + ": no such file");
  if (std::filesystem::is_directory(status))
    return vmm::make_error(vmm::Errc::invalid_config, path.string() + ": is a directory, not a JSON file");
  std::ifstream in(path);
  if (!in) return vmm::make_error(vmm::Errc::io, path.string() + ": cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  auto config = vmm::VmConfig::from_json(text.str());
  if (!config)
    return vmm::Error(config.error().code(),
                      path.string() + ": " + without_json_tag(config.error().message()));
  return config;
}

// Where a --bundle may be saved: its parent directory must exist (checked before booting).
inline vmm::Result<void> check_bundle_parent(const std::filesystem::path& bundle) {
  const auto parent = std::filesystem::absolute(bundle).parent_path();
  std::error_code ec;
  if (!std::filesystem::is_directory(parent, ec))
    return vmm::make_error(vmm::Errc::not_found,
                           "--bundle: the directory " + parent.string() + " does not exist");
  return {};
}

}  // namespace vmm_examples
