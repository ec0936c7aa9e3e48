// vmm: vfkit's command-line language (opt-in). crc-org/vfkit is the VM runner that podman
// machine, crc and minikube start on macOS; this header turns a vfkit argument list into a
// VmConfig plus the runner's settings, and a VmConfig back into the canonical vfkit arguments.
//
// The grammar follows vfkit (cmd/vfkit, pkg/cmdline, pkg/config): pflag-style flags
// (`--name value`, `--name=value`, `-c 2`, `-c2`), `--device` values split at plain commas,
// `--bootloader` and `--cloud-init` split quote-aware, `key=value` split at the first `=`,
// empty options skipped, keys case-sensitive, the last duplicate wins, defaults of 1 vCPU and
// 512 MiB. Differences, each an error rather than a silent change: numbers are decimal only;
// stray positional arguments are refused; a form vmm cannot run (--gui, virtio-gpu,
// virtio-input, nbd, the macos bootloader, vfkitMagic=on, rosetta install/ignore-if-missing,
// virtio-serial pty) is `unsupported`, naming it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vmm/config.hpp"
#include "vmm/error.hpp"
#include "vmm/state.hpp"

namespace vmm::vfkit {

// --restful-uri: tcp://HOST:PORT (http:// is the same), unix:///PATH, or none:// (the default).
struct RestEndpoint {
  enum class Scheme { none, tcp, unix_socket };
  Scheme scheme = Scheme::none;
  std::string host;            // tcp: as given, without brackets ("localhost", "::1")
  std::uint16_t port = 0;      // tcp
  std::filesystem::path path;  // unix
  friend bool operator==(const RestEndpoint&, const RestEndpoint&) = default;
};

Result<RestEndpoint> parse_restful_uri(std::string_view uri);
// The URI parse_restful_uri reads back as `endpoint` ("none://" for none).
std::string to_string(const RestEndpoint& endpoint);

// `--device virtio-vsock,port=N,socketURL=PATH,listen|connect`: connect (the host side
// listens on the unix socket PATH and connects each client to guest port N) or listen (the
// host listens on vsock port N and connects each guest connection to the unix socket PATH).
struct VsockExposure {
  std::uint32_t port = 0;
  std::filesystem::path socket;
  bool listen = true;  // vfkit's default
  friend bool operator==(const VsockExposure&, const VsockExposure&) = default;
};

enum class LogLevel { debug, info, error };
std::string_view to_string(LogLevel level) noexcept;

// What vfkit's flags say beyond the machine itself: how the runner behaves.
struct Settings {
  RestEndpoint rest;
  std::optional<std::filesystem::path> pidfile;
  std::optional<LogLevel> log_level;
  std::optional<std::uint32_t> timesync_vsock_port;
  std::optional<std::filesystem::path> ignition;  // served to the guest on vsock port 1024
  std::vector<std::filesystem::path> cloud_init;  // user-data, meta-data, network-config
  std::vector<VsockExposure> vsock_exposures;
  friend bool operator==(const Settings&, const Settings&) = default;
};

// A flag a program takes beside vfkit's (vmm-run's --config, --backend, ...).
struct ExtraFlag {
  std::string_view name;  // with the dashes: "--config"
  bool takes_value = true;
};

struct Invocation {
  // Absent when no flag describes a machine (no bootloader, --cpus, --memory, --device,
  // --nested, --gui): the program then takes the machine from elsewhere (vmm-run --config).
  std::optional<VmConfig> config;
  Settings settings;
  std::vector<std::pair<std::string, std::string>> extras;  // in order; switches: ""
  bool help = false;
  bool version = false;
};

// Parses `args` (without the program name). Errors name the flag or option and the value:
// invalid_config for what vfkit rejects, unsupported for what vmm cannot run, and the
// builder's own error (naming the field) for a machine that fails validation.
Result<Invocation> parse_command_line(std::span<const std::string> args,
                                      std::span<const ExtraFlag> extras = {});

// The canonical vfkit arguments for `config` and `settings`: vfkit accepts them and
// parse_command_line reads them back to an equal config (apart from a generated machine
// identifier, which vfkit has no flag for) and equal settings. A value vfkit cannot express
// (a bridged network, a qcow2 disk, a comma in a device path, ...) is an invalid_config error
// naming it.
Result<std::vector<std::string>> to_command_line(const VmConfig& config,
                                                 const Settings& settings = {});

// vfkit's name for a state in GET /vm/state ("VirtualMachineStateRunning", ...).
std::string_view state_name(VmState state) noexcept;

}  // namespace vmm::vfkit
