// vfkit's flags as pflag reads them (pkg/cmdline/cmdline.go): long and short names, values
// after a space or '=', booleans, the last of a repeated flag wins, and which flags were given.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "vmm/error.hpp"
#include "vmm/vfkit.hpp"

namespace vmm::vfkit::detail {

// The flags as typed, before any value is interpreted (cmdline.Options).
struct RawFlags {
  std::optional<std::string> cpus, memory;
  std::optional<std::string> kernel, initrd, kernel_cmdline;
  std::optional<std::vector<std::string>> bootloader;  // quote-aware pieces, appended
  std::optional<std::vector<std::string>> cloud_init;  // quote-aware pieces, appended
  std::optional<std::string> timesync, restful_uri, log_level, ignition, pidfile;
  std::vector<std::string> devices;
  bool gui = false, nested = false, help = false, version = false;
  bool machine_flags = false;  // any flag that describes the machine was given
  std::vector<std::pair<std::string, std::string>> extras;
};

Result<RawFlags> read_flags(std::span<const std::string> args, std::span<const ExtraFlag> extras);

}  // namespace vmm::vfkit::detail
