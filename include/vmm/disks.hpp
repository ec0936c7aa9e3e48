// vmm/disks.hpp (opt-in): raw disk files, qcow2 -> raw, copy-on-write clones, and cloud-init
// NoCloud seeds. Light: no libarchive or platform types.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "vmm/config.hpp"
#include "vmm/error.hpp"
#include "vmm/size.hpp"

namespace vmm::disks {

// A sparse raw disk of `size` bytes (no blocks allocated). Fails if `path` exists.
Result<void> create_raw(const std::filesystem::path& path, Size size);
// Grows a raw disk to `size`; shrinking is refused (invalid_config), the same size is a no-op.
Result<void> grow_raw(const std::filesystem::path& path, Size size);

// qcow2 -> raw with `qemu-img convert`. A missing qemu-img is not_found naming the package.
Result<void> convert_qcow2_to_raw(const std::filesystem::path& qcow2,
                                  const std::filesystem::path& raw);

enum class CloneMethod {
  reflink,      // Linux FICLONE: blocks shared until written
  clonefile,    // macOS clonefile(2) on APFS
  sparse_copy,  // a copy of the data extents only (SEEK_DATA/SEEK_HOLE): holes stay holes
};
std::string_view to_string(CloneMethod method) noexcept;

// Copies `source` to the new file `destination` (which must not exist) by the cheapest method
// the filesystem allows, and says which one it was.
Result<CloneMethod> clone(const std::filesystem::path& source,
                          const std::filesystem::path& destination);

// ---- cloud-init NoCloud ----------------------------------------------------------------------

struct CloudInitSeed {
  std::string user_data;                     // "#cloud-config\n..."
  std::string meta_data;                     // empty: "instance-id: <hostname>\nlocal-hostname: ..."
  std::optional<std::string> network_config;  // optional "network-config"
  std::string hostname = "vmm";
};

// Writes an ISO 9660 volume labelled "cidata" holding user-data, meta-data and (if given)
// network-config, with libarchive's ISO writer. Replaces `iso` atomically.
Result<void> write_cloud_init_seed(const CloudInitSeed& seed, const std::filesystem::path& iso);

// Attaches a seed ISO read-only: the one builder call a VM needs for cloud-init.
VmConfigBuilder& attach_seed(VmConfigBuilder& builder, const std::filesystem::path& iso);

}  // namespace vmm::disks
