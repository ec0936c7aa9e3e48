// vmm internal (QEMU backend): the runtime layout.
#include "qemu/plan.hpp"

#include <fmt/format.h>

#include <utility>
#include <variant>

#include "runtime/posix.hpp"

namespace vmm::qemu {

std::uint32_t vsock_cid_for(std::uint32_t pid, std::uint32_t sequence) noexcept {
  return 3 + (pid % 4'000'000U) * 1024U + (sequence % 1024U);
}

Result<QemuRuntimePaths> plan_runtime_layout(const VmConfig& config,
                                             const std::filesystem::path& work_dir,
                                             std::vector<bool> disk_is_block_device,
                                             std::uint32_t vsock_cid) {
  QemuRuntimePaths paths;
  paths.qmp_fd = child_qmp_fd;
  paths.console_fd = child_console_fd;
  paths.virtio_console_fd = child_virtio_console_fd;
  paths.disk_is_block_device = std::move(disk_is_block_device);
  int next_fd = first_child_network_fd;
  for (std::size_t i = 0; i < config.networks().size(); ++i) {
    const auto& attachment = config.networks()[i].attachment;
    paths.network_fds.push_back(std::holds_alternative<FileHandleNetwork>(attachment) ? next_fd++
                                                                                      : -1);
    paths.network_local_sockets.push_back(
        std::holds_alternative<UnixDatagramNetwork>(attachment)
            ? work_dir / fmt::format("net{}.sock", i)
            : std::filesystem::path{});
  }
  for (std::size_t i = 0; i < config.console_ports().size(); ++i) {
    paths.console_port_fds.push_back(next_fd++);
  }
  for (std::size_t i = 0; i < config.shares().size(); ++i) {
    paths.virtiofs_sockets.push_back(work_dir / fmt::format("fs{}.sock", i));
  }
  paths.vsock_cid = vsock_cid;
  // The path limit is decided in src/runtime/posix.hpp.
  for (const auto* list : {&paths.network_local_sockets, &paths.virtiofs_sockets}) {
    for (const auto& path : *list) {
      if (path.string().size() > detail::host_max_unix_socket_path) {
        return make_error(Errc::invalid_config,
                          fmt::format("working_directory: {} is too long for unix socket paths "
                                      "(at most {} bytes in all)",
                                      work_dir.string(), detail::host_max_unix_socket_path));
      }
    }
  }
  return paths;
}

}  // namespace vmm::qemu
