// vmm: the snapshot bundle's manifest. A bundle is a directory holding manifest.json and the
// backend's state file; VirtualMachine::save() writes it, restore() checks it.
//
// Integrity: since format version 2 the manifest records an XXH3-128 digest of every other
// file in the bundle (the state file). restore() reads the state file once to verify it before
// the hypervisor starts and refuses a mismatch with Errc::io naming the file: the bytes read
// back are not the bytes written (storage damage, a torn copy). It detects damage, not
// tampering (whoever can rewrite the state file can rewrite the manifest too). Bundles of
// format version 1 (no digests) still restore on Virtualization.framework, unverified, with a
// warning in the log: refusing them would make every VM saved before this change unusable.
// Format 1 QEMU bundles are refused (invalid_config, saying why): QEMU machines have since
// gained a virtio console, and QEMU cannot load a state saved without it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "vmm/config.hpp"
#include "vmm/error.hpp"

namespace vmm {

// A template bundle's RAM file (VirtualMachine::save_template). Not covered by `digests`:
// hashing it would make every clone read all of the guest's RAM, which is what templates avoid;
// restore() checks that it exists with exactly this size.
struct TemplateMemory {
  std::string file;        // file name inside the bundle, e.g. "memory.ram"
  std::uint64_t size = 0;  // bytes: the config's memory size
  bool operator==(const TemplateMemory&) const = default;
};

struct SnapshotManifest {
  static constexpr int current_format_version = 2;
  static constexpr int oldest_format_version = 1;  // read, never written

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
  // File name inside the bundle -> "xxh3-128:<32 hex digits>", for every file but
  // manifest.json. Empty only for format version 1.
  std::map<std::string, std::string> digests;
  // Set for a template bundle: restore() makes a clone that maps this file copy-on-write.
  std::optional<TemplateMemory> template_memory = std::nullopt;

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
