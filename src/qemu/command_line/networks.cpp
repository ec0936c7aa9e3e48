// The networks section: a -netdev backend and a virtio-net device per network.
#include <nlohmann/json.hpp>
#include <optional>
#include <variant>

#include "qemu/command_line/sections.hpp"
#include "vmm/format.hpp"

namespace vmm::qemu::sections {

Result<void> add_networks(ArgvBuilder& argv, const VmConfig& config,
                          const QemuRuntimePaths& paths, MachineType machine) {
  using nlohmann::json;
  for (std::size_t i = 0; i < config.networks().size(); ++i) {
    const auto& network = config.networks()[i];
    const std::string id = fmt::format("net{}", i);
    std::optional<std::uint32_t> mtu;
    if (const auto* nat = std::get_if<NatNetwork>(&network.attachment)) {
      // QEMU's user-mode (slirp) network: DHCP gives nat_guest_address, the host is 10.0.2.2;
      // each forward is a hostfwd rule (the guest address left empty: the DHCP one).
      std::string netdev =
          fmt::format("user,id={},net={},dhcpstart={}", id, nat_subnet, nat_guest_address);
      for (const auto& forward : nat->forwards) {
        netdev += fmt::format(",hostfwd={}:{}:{}-:{}", to_string(forward.protocol),
                              forward.host_address, forward.host_port, forward.guest_port);
      }
      argv.add("-netdev", netdev);
    } else if (const auto* fd = std::get_if<FileHandleNetwork>(&network.attachment)) {
      if (i >= paths.network_fds.size() || paths.network_fds[i] < 0) {
        return make_error(Errc::invalid_config,
                          fmt::format("networks[{}]: no descriptor was prepared for the file "
                                      "handle network",
                                      i));
      }
      argv.add("-netdev",
               json{{"type", "dgram"},
                    {"id", id},
                    {"local", {{"type", "fd"}, {"str", std::to_string(paths.network_fds[i])}}}}
                   .dump());
      mtu = fd->mtu;
    } else if (const auto* unix_dgram = std::get_if<UnixDatagramNetwork>(&network.attachment)) {
      if (i >= paths.network_local_sockets.size() || paths.network_local_sockets[i].empty()) {
        return make_error(Errc::invalid_config,
                          fmt::format("networks[{}]: no local socket path was prepared for the "
                                      "unix datagram network",
                                      i));
      }
      // QEMU binds the local path (the peer replies to it) and sends to the peer's path.
      argv.add("-netdev",
               json{{"type", "dgram"},
                    {"id", id},
                    {"local", {{"type", "unix"}, {"path", paths.network_local_sockets[i].string()}}},
                    {"remote", {{"type", "unix"}, {"path", unix_dgram->socket.string()}}}}
                   .dump());
      mtu = unix_dgram->mtu;
    } else if (const auto* tap = std::get_if<TapNetwork>(&network.attachment)) {
      // QEMU opens the interface itself (in its network namespace, before any privilege drop);
      // no helper scripts run.
      argv.add("-netdev", fmt::format("tap,id={},ifname={},script=no,downscript=no", id,
                                      escape_option_value(tap->ifname)));
    } else {
      return unsupported(fmt::format("networks[{}]: {} networking is not available in the QEMU "
                                     "backend (use nat, tap, file_handle or unix_datagram)",
                                     i, network_kind(network.attachment)));
    }
    std::string device = fmt::format("{},netdev={},mac={}", virtio("virtio-net", machine), id,
                                     network.mac.to_string());
    if (mtu) device += fmt::format(",host_mtu={}", *mtu);
    argv.add("-device", device);
  }
  return {};
}

}  // namespace vmm::qemu::sections

namespace vmm::qemu {

std::vector<GuestAddress> qemu_guest_addresses(const VmConfig& config) {
  std::vector<GuestAddress> addresses;
  for (std::size_t i = 0; i < config.networks().size(); ++i) {
    if (std::holds_alternative<NatNetwork>(config.networks()[i].attachment)) {
      addresses.push_back(GuestAddress{i, std::string(nat_guest_address)});
    }
  }
  return addresses;
}

}  // namespace vmm::qemu
