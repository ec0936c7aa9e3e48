// The whole command line: flags (flags.cpp), then vfkit's flag groups and defaults, then the
// machine through the builder so that vmm's validation applies.
#include <string>

#include "vfkit/flags.hpp"
#include "vfkit/machine.hpp"
#include "vfkit/options.hpp"

namespace vmm::vfkit {
namespace {

using detail::bad;
using detail::MachineSink;
using detail::RawFlags;

// vfkit: --kernel, --initrd and --kernel-cmdline go together and exclude --bootloader.
Result<void> check_groups(const RawFlags& f) {
  const std::pair<const char*, bool> legacy[] = {{"--kernel", f.kernel.has_value()},
                                                 {"--initrd", f.initrd.has_value()},
                                                 {"--kernel-cmdline", f.kernel_cmdline.has_value()}};
  std::string given, missing;
  for (const auto& [name, set] : legacy) {
    auto& list = set ? given : missing;
    list += (list.empty() ? "" : " ") + std::string(name);
  }
  if (!given.empty() && f.bootloader)
    return bad("--bootloader cannot be used with " + given);
  if (!given.empty() && !missing.empty())
    return bad(given + " given without " + missing + " (they go together)");
  return {};
}

Result<void> read_settings(const RawFlags& f, Settings& s) {
  if (f.restful_uri) {
    auto endpoint = parse_restful_uri(*f.restful_uri);
    if (!endpoint) return std::move(endpoint).error();
    s.rest = std::move(*endpoint);
  }
  if (f.pidfile && !f.pidfile->empty()) s.pidfile = *f.pidfile;
  if (f.log_level && !f.log_level->empty()) {
    if (*f.log_level == "debug") s.log_level = LogLevel::debug;
    else if (*f.log_level == "info") s.log_level = LogLevel::info;
    else if (*f.log_level == "error") s.log_level = LogLevel::error;
    else return bad("--log-level: unknown log level " + *f.log_level + " (debug, info or error)");
  }
  if (f.timesync && !f.timesync->empty()) {
    std::optional<std::uint32_t> port;
    for (const auto& option : detail::to_options(detail::split_plain(*f.timesync), 0)) {
      if (option.key != "vsockPort") return bad("--timesync: unknown option " + option.key);
      auto n = detail::parse_decimal("--timesync: vsockPort", option.value, 0, 0xffffffffULL);
      if (!n) return std::move(n).error();
      port = static_cast<std::uint32_t>(*n);
    }
    if (!port || *port == 0) return bad("--timesync: missing vsockPort=");
    s.timesync_vsock_port = port;
  }
  if (f.ignition && !f.ignition->empty()) {
    if (detail::split_plain(*f.ignition).size() != 1)
      return bad("--ignition takes one file, not \"" + *f.ignition + "\"");
    s.ignition = *f.ignition;
  }
  if (f.cloud_init) {
    for (const auto& file : *f.cloud_init)
      if (!file.empty()) s.cloud_init.emplace_back(file);
  }
  return {};
}

Result<VmConfig> read_machine(const RawFlags& f, Settings& settings) {
  auto builder = VmConfig::builder();
  builder.cpus(1).memory(Size::mib(512));  // vfkit's defaults
  if (f.cpus) {
    auto n = detail::parse_decimal("--cpus", *f.cpus, 0, 0xffffffffULL);
    if (!n) return std::move(n).error();
    builder.cpus(static_cast<std::uint32_t>(*n));
  }
  if (f.memory) {
    // MiB; the bound keeps the byte count far from overflow (2^40 MiB = 1 EiB).
    auto n = detail::parse_decimal("--memory", *f.memory, 0, 1ULL << 40);
    if (!n) return std::move(n).error();
    builder.memory(Size::mib(*n));
  }
  MachineSink sink{builder, settings};
  if (f.kernel) {
    LinuxBoot boot{*f.kernel, std::nullopt, *f.kernel_cmdline, {}};
    if (!f.initrd->empty()) boot.initrd = *f.initrd;
    builder.linux_boot(std::move(boot));
  } else if (!f.bootloader) {
    return bad("no bootloader: give --bootloader linux,... or efi,..., or --kernel, --initrd and "
               "--kernel-cmdline");
  } else if (auto booted = detail::add_bootloader(*f.bootloader, sink); !booted) {
    return std::move(booted).error();
  }
  for (const auto& device : f.devices)
    if (auto added = detail::add_device(device, sink); !added) return std::move(added).error();
  if (f.gui) return make_error(Errc::unsupported, "--gui: vmm has no graphical console");
  if (f.nested) builder.nested_virtualization();
  // vfkit serves --timesync and --ignition over the machine's vsock device.
  if (sink.vsock || settings.timesync_vsock_port || settings.ignition) builder.vsock();
  return builder.build();
}

}  // namespace

Result<Invocation> parse_command_line(std::span<const std::string> args,
                                      std::span<const ExtraFlag> extras) {
  auto flags = detail::read_flags(args, extras);
  if (!flags) return std::move(flags).error();
  Invocation invocation;
  invocation.help = flags->help;
  invocation.version = flags->version;
  invocation.extras = std::move(flags->extras);
  if (invocation.help || invocation.version) return invocation;
  if (auto ok = check_groups(*flags); !ok) return std::move(ok).error();
  if (auto ok = read_settings(*flags, invocation.settings); !ok) return std::move(ok).error();
  if (flags->machine_flags) {
    auto config = read_machine(*flags, invocation.settings);
    if (!config) return std::move(config).error();
    invocation.config = std::move(*config);
  }
  return invocation;
}

std::string_view to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::error: return "error";
  }
  return "?";
}

std::string_view state_name(VmState state) noexcept {
  switch (state) {
    case VmState::stopped: return "VirtualMachineStateStopped";
    case VmState::starting: return "VirtualMachineStateStarting";
    case VmState::running: return "VirtualMachineStateRunning";
    case VmState::pausing: return "VirtualMachineStatePausing";
    case VmState::paused: return "VirtualMachineStatePaused";
    case VmState::resuming: return "VirtualMachineStateResuming";
    case VmState::stopping: return "VirtualMachineStateStopping";
    case VmState::saving: return "VirtualMachineStateSaving";
    case VmState::restoring: return "VirtualMachineStateRestoring";
    case VmState::error: return "VirtualMachineStateError";
  }
  return "VirtualMachineStateError";
}

}  // namespace vmm::vfkit
