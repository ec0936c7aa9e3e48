// vfkit's value splitters and `key=value` options (pkg/cmdline/string_slice.go and
// pkg/config: strvToOptions). Pure string work, shared by every flag that takes a list.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vmm/error.hpp"

namespace vmm::vfkit::detail {

// Every vfkit flag parser's error: a command line that gives no valid config.
inline Unexpected bad(std::string message) { return make_error(Errc::invalid_config, std::move(message)); }

struct Option {
  std::string key;
  std::string value;  // "" for a flag-style option such as `readonly`
  bool has_value = false;
};

// Plain comma split, every piece kept (empty ones too): --device, --timesync, --ignition.
std::vector<std::string> split_plain(std::string_view text);

// Quote-aware split used by --bootloader and --cloud-init: a comma inside "..." does not
// split, the quotes stay in the piece, and a piece wholly in quotes loses its outer quotes.
// An empty text gives no pieces; an unclosed quote is an error naming `flag`.
Result<std::vector<std::string>> split_quoted(std::string_view flag, std::string_view text);

// Removes all leading and trailing quotes when the text both starts and ends with one.
std::string trim_quotes(std::string_view text);

// `key=value` split at the first '='; empty pieces are skipped.
std::vector<Option> to_options(const std::vector<std::string>& pieces, std::size_t first);

}  // namespace vmm::vfkit::detail
