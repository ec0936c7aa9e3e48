// vmm: the snapshot bundle's manifest. A bundle is a directory holding manifest.json and the
// backend's state file; VirtualMachine::save() writes it, restore() checks it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "vmm/config.hpp"
#include "vmm/error.hpp"

namespace vmm {

struct SnapshotManifest {
  static constexpr int current_format_version = 1;

  int format_version = current_format_version;
  std::string backend;     // "qemu" or "virtualization_framework"
  VmConfig config;         // the config of the VM that was saved
  std::string state_file;  // file name inside the bundle
  std::string created_at;  // UTC, ISO 8601
  std::string library_version;
  // Whether the saved machine had a serial console port. Virtualization.framework compares the
  // device list on restore, and it adds a port for CreateOptions::on_console_line even when
  // config.serial() is none. nullopt in manifests written before it was recorded: then
  // config.serial() decides.
  std::optional<bool> serial_port;

  // Convenience views of config, as the manifest records them.
  const std::vector<std::uint8_t>& machine_identifier() const {
    return config.machine_identifier();
  }
  std::vector<MacAddress> macs() const { return config.network_macs(); }
};

// Reads and validates `bundle`/manifest.json, so that a caller can rebuild a matching config
// (manifest.config) before creating the VM to restore into.
Result<SnapshotManifest> read_snapshot_manifest(const std::filesystem::path& bundle);

}  // namespace vmm
