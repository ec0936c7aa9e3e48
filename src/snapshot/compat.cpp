// vmm internal: snapshot/config compatibility.
#include "snapshot/compat.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <variant>

namespace vmm::detail {

namespace {

Unexpected mismatch(const std::string& field, const std::string& snapshot,
                    const std::string& ours) {
  return make_error(Errc::invalid_config, "restore: " + field + ": the snapshot has " + snapshot +
                                              ", this VM has " + ours);
}

std::string count_of(std::size_t n) { return std::to_string(n); }
// `what` carries its article ("an entropy device").
std::string presence(bool present, const char* what) {
  return present ? std::string(what) : std::string("none");
}
std::string quoted(const std::filesystem::path& path) { return "\"" + path.string() + "\""; }
std::string yes_no(bool value) { return value ? "true" : "false"; }

std::string boot_kind(const Boot& boot) {
  return std::holds_alternative<LinuxBoot>(boot) ? "linux boot" : "EFI boot";
}

// The directories a share exposes, as "name=path,ro" items, so that single and multiple
// shares compare in one way.
std::string share_source(const VirtiofsShare& share) {
  auto item = [](const SharedDirectory& directory) {
    return quoted(directory.directory) + (directory.read_only ? " (read-only)" : "");
  };
  if (const auto* single = std::get_if<SharedDirectory>(&share.source)) return item(*single);
  std::string text = "{";
  for (const auto& [name, directory] : std::get<std::map<std::string, SharedDirectory>>(share.source)) {
    if (text.size() > 1) text += ", ";
    text += name + ": " + item(directory);
  }
  return text + "}";
}

Result<void> compare_networks(const VmConfig& saved, const VmConfig& ours) {
  const auto& a = saved.networks();
  const auto& b = ours.networks();
  // MACs first: the guest keyed its network configuration (DHCP leases, udev names) on them.
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i].mac != b[i].mac) {
      return mismatch("networks[" + std::to_string(i) + "].mac", "MAC " + a[i].mac.to_string(),
                      "MAC " + b[i].mac.to_string());
    }
  }
  if (a.size() != b.size()) return mismatch("networks", count_of(a.size()), count_of(b.size()));
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto saved_kind = network_kind(a[i].attachment);
    const auto our_kind = network_kind(b[i].attachment);
    if (saved_kind != our_kind) {
      return mismatch("networks[" + std::to_string(i) + "].kind", std::string(saved_kind),
                      std::string(our_kind));
    }
  }
  return {};
}

Result<void> compare_disks(const VmConfig& saved, const VmConfig& ours) {
  const auto& a = saved.disks();
  const auto& b = ours.disks();
  if (a.size() != b.size()) return mismatch("disks", count_of(a.size()), count_of(b.size()));
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::string at = "disks[" + std::to_string(i) + "]";
    if (a[i].path != b[i].path) return mismatch(at + ".path", quoted(a[i].path), quoted(b[i].path));
    if (a[i].format != b[i].format) {
      return mismatch(at + ".format", std::string(to_string(a[i].format)),
                      std::string(to_string(b[i].format)));
    }
    if (a[i].bus != b[i].bus) {
      return mismatch(at + ".bus", std::string(to_string(a[i].bus)),
                      std::string(to_string(b[i].bus)));
    }
    if (a[i].read_only != b[i].read_only) {
      return mismatch(at + ".read_only", yes_no(a[i].read_only), yes_no(b[i].read_only));
    }
    if (a[i].device_id != b[i].device_id) {
      return mismatch(at + ".device_id", a[i].device_id.value_or("none"),
                      b[i].device_id.value_or("none"));
    }
  }
  return {};
}

Result<void> compare_shares(const VmConfig& saved, const VmConfig& ours) {
  const auto& a = saved.shares();
  const auto& b = ours.shares();
  if (a.size() != b.size()) return mismatch("shares", count_of(a.size()), count_of(b.size()));
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::string at = "shares[" + std::to_string(i) + "]";
    if (a[i].tag != b[i].tag) return mismatch(at + ".tag", a[i].tag, b[i].tag);
    if (a[i].source != b[i].source) {
      return mismatch(at + ".source", share_source(a[i]), share_source(b[i]));
    }
  }
  return {};
}

Result<void> compare_other_devices(const VmConfig& saved, const VmConfig& ours) {
  if (saved.vsock().has_value() != ours.vsock().has_value()) {
    return mismatch("vsock", presence(saved.vsock().has_value(), "a vsock device"),
                    presence(ours.vsock().has_value(), "a vsock device"));
  }
  if (saved.balloon().has_value() != ours.balloon().has_value()) {
    return mismatch("balloon", presence(saved.balloon().has_value(), "a memory balloon"),
                    presence(ours.balloon().has_value(), "a memory balloon"));
  }
  if (saved.entropy() != ours.entropy()) {
    return mismatch("entropy", presence(saved.entropy(), "an entropy device"),
                    presence(ours.entropy(), "an entropy device"));
  }
  if (saved.rosetta_tag() != ours.rosetta_tag()) {
    return mismatch("rosetta", saved.rosetta_tag() ? "tag " + *saved.rosetta_tag() : "none",
                    ours.rosetta_tag() ? "tag " + *ours.rosetta_tag() : "none");
  }
  if (saved.boot().index() != ours.boot().index()) {
    return mismatch("boot", boot_kind(saved.boot()), boot_kind(ours.boot()));
  }
  if (saved.nested_virtualization() != ours.nested_virtualization()) {
    return mismatch("nested_virtualization", yes_no(saved.nested_virtualization()),
                    yes_no(ours.nested_virtualization()));
  }
  return {};
}

bool has_serial(const VmConfig& config) {
  return !std::holds_alternative<std::monostate>(config.serial());
}

// Only whether a serial port exists matters to the guest (and to VZ), not where its output
// goes. The port is the machine's, not the config's: on VZ an on_console_line callback adds
// one even when serial() is none, and VZ refuses a restore whose device list differs.
Result<void> compare_serial_port(const SnapshotManifest& manifest, const VmConfig& ours,
                                 std::optional<bool> serial_port) {
  const bool saved_port = manifest.serial_port.value_or(has_serial(manifest.config));
  const bool our_port = serial_port.value_or(has_serial(ours));
  if (saved_port == our_port) return {};
  return mismatch("serial", presence(saved_port, "a serial console port"),
                  presence(our_port, "a serial console port") +
                      " (a serial port exists when serial is set or, on "
                      "Virtualization.framework, when on_console_line is set)");
}

}  // namespace

Result<void> check_snapshot_compatible(const SnapshotManifest& manifest,
                                       std::string_view backend_name, const VmConfig& config,
                                       std::optional<bool> serial_port) {
  if (manifest.backend != backend_name) {
    return make_error(Errc::invalid_config, "restore: snapshot was made by " + manifest.backend +
                                                ", this VM uses " + std::string(backend_name));
  }
  // Format 1 QEMU bundles predate the virtio console (hvc0) that every QEMU machine now has:
  // QEMU would refuse the state with an opaque device error after starting, so say why here.
  if (manifest.backend == "qemu" && manifest.format_version < 2) {
    return make_error(Errc::invalid_config,
                      "restore: this QEMU snapshot was written by vmm " + manifest.library_version +
                          " (manifest format " + std::to_string(manifest.format_version) +
                          "), before QEMU machines gained their virtio console (hvc0); QEMU "
                          "cannot load it into this machine: start the VM afresh");
  }
  const VmConfig& saved = manifest.config;
  if (saved.machine_identifier() != config.machine_identifier()) {
    return make_error(Errc::invalid_config,
                      "restore: machine identifier: the snapshot's differs from this VM's (create "
                      "the VM from read_snapshot_manifest()'s config to keep it)");
  }
  for (auto check : {compare_networks, compare_disks, compare_shares, compare_other_devices}) {
    if (auto result = check(saved, config); !result) return result;
  }
  if (auto result = compare_serial_port(manifest, config, serial_port); !result) return result;
  if (saved.cpus() != config.cpus()) {
    return mismatch("cpus", std::to_string(saved.cpus()), std::to_string(config.cpus()));
  }
  if (saved.memory() != config.memory()) {
    return mismatch("memory", saved.memory().to_string(), config.memory().to_string());
  }
  if (manifest.template_memory) {
    if (auto fits = check_template_config(config); !fits) {
      return make_error(Errc::invalid_config, "restore: " + fits.error().message());
    }
  }
  return {};
}

Result<void> check_template_config(const VmConfig& config) {
  for (std::size_t i = 0; i < config.networks().size(); ++i) {
    const auto& network = config.networks()[i];
    if (!std::holds_alternative<NatNetwork>(network.attachment)) {
      return make_error(
          Errc::invalid_config,
          "template: networks[" + std::to_string(i) + "] is a " +
              std::string(network_kind(network.attachment)) + " network, but every clone keeps "
              "the template's MAC " + network.mac.to_string() +
              ": only NAT networks (one private network per VM) can carry the same MAC in many "
              "VMs at once");
    }
  }
  for (std::size_t i = 0; i < config.disks().size(); ++i) {
    if (!config.disks()[i].read_only) {
      return make_error(Errc::invalid_config,
                        "template: disks[" + std::to_string(i) + "] (" +
                            config.disks()[i].path.string() +
                            ") is writable, but every clone would write that one image at once: "
                            "templates take read-only disks only");
    }
  }
  return {};
}

Result<void> check_template_memory(const std::filesystem::path& bundle,
                                   const TemplateMemory& memory) {
  const auto path = bundle / memory.file;
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) {
    return make_error(Errc::not_found, "the template's RAM file " + path.string() +
                                           " does not exist");
  }
  if (!std::filesystem::is_regular_file(status)) {
    return make_error(Errc::io, "the template's RAM file " + path.string() +
                                    " is not a regular file");
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    return make_error(Errc::io, "cannot read the size of the template's RAM file " +
                                    path.string() + ": " + ec.message());
  }
  if (size != memory.size) {
    return make_error(Errc::io, "the template's RAM file " + path.string() + " is " +
                                    (size < memory.size ? "truncated" : "too large") + ": " +
                                    std::to_string(size) + " bytes, the manifest records " +
                                    std::to_string(memory.size));
  }
  return {};
}

}  // namespace vmm::detail
