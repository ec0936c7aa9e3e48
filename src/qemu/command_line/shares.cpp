// The shares section: one virtiofsd per share, reached over a vhost-user socket.
#include <variant>

#include "qemu/command_line/sections.hpp"
#include "vmm/format.hpp"

namespace vmm::qemu::sections {

Result<void> add_shares(ArgvBuilder& argv, const VmConfig& config, const QemuHostFacts& host,
                        const QemuRuntimePaths& paths, MachineType machine) {
  for (std::size_t i = 0; i < config.shares().size(); ++i) {
    const auto& share = config.shares()[i];
    if (!host.virtiofsd) {
      return unsupported(fmt::format("shares[{}] ({}): virtiofs needs virtiofsd "
                                     "(/usr/lib/qemu/virtiofsd from the Debian package "
                                     "qemu-system-common)",
                                     i, share.tag));
    }
    const auto* single = std::get_if<SharedDirectory>(&share.source);
    if (single == nullptr) {
      return unsupported(fmt::format("shares[{}] ({}): shares of several directories are not "
                                     "available in the QEMU backend (virtiofsd serves one tree)",
                                     i, share.tag));
    }
    if (single->read_only) {
      return unsupported(fmt::format("shares[{}] ({}): read-only shares are not available in "
                                     "the QEMU backend (QEMU 7.2's virtiofsd has no read-only "
                                     "mode; mount it read-only in the guest instead)",
                                     i, share.tag));
    }
    if (i >= paths.virtiofs_sockets.size()) {
      return make_error(Errc::invalid_config,
                        fmt::format("shares[{}]: no virtiofsd socket was prepared", i));
    }
    argv.add("-chardev", fmt::format("socket,id=fs{},path={}", i,
                                     escape_option_value(paths.virtiofs_sockets[i].string())));
    argv.add("-device", fmt::format("{},chardev=fs{},tag={}", virtio("vhost-user-fs", machine), i,
                                    escape_option_value(share.tag)));
  }
  return {};
}

}  // namespace vmm::qemu::sections
