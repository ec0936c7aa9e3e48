// vmm internal (QEMU backend): the runtime layout of one VM, decided as a pure function: the
// descriptor numbers the QEMU child sees, the socket paths inside the working directory, and the
// vsock CID. The engine's factory gathers the host facts it needs (which disks are block
// devices, this process's id) and acts on the result; build_qemu_command_line turns it into argv.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "qemu/command_line.hpp"
#include "vmm/config.hpp"
#include "vmm/error.hpp"

namespace vmm::qemu {

// The child's descriptors: 3 QMP, 4 ttyS0, 5 hvc0, then one per file-handle network, then one
// per console port.
inline constexpr int child_qmp_fd = 3;
inline constexpr int child_console_fd = 4;
inline constexpr int child_virtio_console_fd = 5;
inline constexpr int first_child_network_fd = 6;

// A CID unique among this host's VMs while they run (vhost-vsock refuses a CID in use): from this
// process's id and a per-process sequence number. CIDs 0-2 are reserved.
std::uint32_t vsock_cid_for(std::uint32_t pid, std::uint32_t sequence) noexcept;

// The layout for `config` in `work_dir`. `disk_is_block_device` is per disk, in config order.
// invalid_config (naming working_directory) when a socket path would not fit a unix socket
// address on this host.
Result<QemuRuntimePaths> plan_runtime_layout(const VmConfig& config,
                                             const std::filesystem::path& work_dir,
                                             std::vector<bool> disk_is_block_device,
                                             std::uint32_t vsock_cid);

}  // namespace vmm::qemu
