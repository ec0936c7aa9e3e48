// vmm internal: manifest.json of a snapshot bundle, to and from JSON.
#pragma once

#include <string>
#include <string_view>

#include "vmm/snapshot.hpp"

namespace vmm::detail {

inline constexpr std::string_view manifest_file_name = "manifest.json";
// The RAM file's name in a template bundle (VirtualMachine::save_template).
inline constexpr std::string_view template_memory_file_name = "memory.ram";

// {"format_version":2,"backend":"qemu","config":{...as VmConfig::to_json()...},
//  "state_file":"state.qemu","created_at":"2026-01-02T03:04:05Z","library_version":"0.1.0",
//  "serial_port":true, "digests":{"state.qemu":"xxh3-128:<32 hex digits>"}}
// serial_port is optional (older manifests lack it). Format 1 is the same without "digests"
// (read, never written). A template bundle adds
//   "template":{"memory_file":"memory.ram","memory_size":268435456}
// (a library that predates templates refuses the unknown field instead of restoring the device
// state without its memory); memory_size must be the config's memory.
std::string manifest_to_json(const SnapshotManifest& manifest);

// Validates more strictly than VmConfig::from_json: every field required (in the config too:
// a default would describe another VM), no unknown fields, a
// known format version and backend, a state file that is a plain name inside the bundle.
// Errors are invalid_config and name the JSON path ("$.state_file", "$.config.cpus").
Result<SnapshotManifest> parse_snapshot_manifest(std::string_view json);

// The current time as ISO 8601 UTC with seconds, e.g. "2026-11-22T21:40:00Z".
std::string utc_timestamp_now();

}  // namespace vmm::detail
