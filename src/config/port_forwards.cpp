// vmm internal: the rules for NAT port forwards. A forward names a host socket vmm (QEMU's
// slirp) will bind, so the rules are those of binding: a port 1..65535, an IPv4 address to
// bind to (slirp's hostfwd in QEMU 7.2 takes IPv4 only), and no host port bound twice for one
// protocol across all NAT networks (the second bind would fail at start, far from its cause).
#include <arpa/inet.h>

#include <fmt/format.h>

#include <string>
#include <variant>

#include "config/validation.hpp"

namespace vmm::detail {

namespace {

Unexpected invalid_forward(const std::string& field, const std::string& message) {
  return make_error(Errc::invalid_config, field + ": " + message);
}

bool ipv4_address(const std::string& text) {
  in_addr parsed{};
  return ::inet_pton(AF_INET, text.c_str(), &parsed) == 1;
}

}  // namespace

Result<void> check_port_forwards(const std::vector<ConfigAccess::NetworkSpec>& networks) {
  struct Seen {
    Protocol protocol;
    std::uint32_t port;
    std::string field;
  };
  std::vector<Seen> seen;
  for (std::size_t n = 0; n < networks.size(); ++n) {
    const auto* nat = std::get_if<NatNetwork>(&networks[n].attachment);
    if (nat == nullptr) continue;
    for (std::size_t i = 0; i < nat->forwards.size(); ++i) {
      const auto& forward = nat->forwards[i];
      const auto field = fmt::format("networks[{}].forwards[{}]", n, i);
      if (forward.host_port < 1 || forward.host_port > 65535) {
        return invalid_forward(field + ".host_port",
                               fmt::format("{} is not a port (1 to 65535)", forward.host_port));
      }
      if (forward.guest_port < 1 || forward.guest_port > 65535) {
        return invalid_forward(field + ".guest_port",
                               fmt::format("{} is not a port (1 to 65535)", forward.guest_port));
      }
      if (!ipv4_address(forward.host_address)) {
        return invalid_forward(field + ".host_address",
                               fmt::format("\"{}\" is not an IPv4 address", forward.host_address));
      }
      for (const auto& other : seen) {
        if (other.protocol == forward.protocol && other.port == forward.host_port) {
          return invalid_forward(field + ".host_port",
                                 fmt::format("{} {} is already forwarded by {}",
                                             to_string(forward.protocol), forward.host_port,
                                             other.field));
        }
      }
      seen.push_back({forward.protocol, forward.host_port, field});
    }
  }
  return {};
}

}  // namespace vmm::detail
