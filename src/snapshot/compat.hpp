// vmm internal: whether a snapshot may be restored into a VM with a given config.
#pragma once

#include <filesystem>
#include <optional>
#include <string_view>

#include "vmm/config.hpp"
#include "vmm/snapshot.hpp"

namespace vmm::detail {

// Virtualization.framework refuses (or worse, corrupts the guest) when the restoring VM differs
// from the saved one, and QEMU's -incoming needs the same machine; vmm applies the same rule on
// every backend, before any hypervisor call. Checks, in this order: backend, machine
// identifier, MACs (by network index), then the device list (networks, disks, shares, vsock,
// balloon, entropy, Rosetta, boot kind, nested virtualization), the serial port, cpus, memory.
// Returns invalid_config naming the first difference, e.g.
//   "restore: networks[1].mac: the snapshot has MAC 52:54:00:00:00:01, this VM has MAC …:02"
// Attachment details that the guest does not see (socket paths, fds, serial file) may differ.
// `serial_port` is whether the restoring machine has a serial console port
// (Engine::has_serial_port()); nullopt: config.serial() decides, as for an old manifest.
Result<void> check_snapshot_compatible(const SnapshotManifest& manifest,
                                       std::string_view backend_name, const VmConfig& config,
                                       std::optional<bool> serial_port = std::nullopt);

// Whether a VM with `config` may be a template, whose clones all keep its MACs, machine
// identifier and disks: every network must be NAT (each VM gets its own private network, so
// equal MACs never meet), every disk read-only (clones would write one image at once).
// invalid_config naming the field, e.g. "networks[0]: a tap network ...". Checked by
// save_template() and again by check_snapshot_compatible() for a template bundle.
Result<void> check_template_config(const VmConfig& config);

// A template bundle's RAM file exists with exactly the recorded size: not_found or io naming it
// ("... is truncated: 1048576 bytes, the manifest records 268435456").
Result<void> check_template_memory(const std::filesystem::path& bundle,
                                   const TemplateMemory& memory);

}  // namespace vmm::detail
