// vmm vz (portable): the NAT forwarder and guest addresses (nat_forwarder.hpp).
#include "vz/nat_forwarder.hpp"

#include <spdlog/logger.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include <fmt/format.h>

#include "vmm/logging.hpp"

namespace vmm::vz {

struct NatForwarder::Stop {
  std::mutex mutex;
  std::condition_variable changed;
  bool stopping = false;
};

namespace {

using Clock = std::chrono::steady_clock;

std::string forward_name(std::size_t network, std::size_t index, const PortForward& forward) {
  return fmt::format("networks[{}].forwards[{}] ({} {}:{} -> guest port {})", network, index,
                     to_string(forward.protocol), forward.host_address, forward.host_port,
                     forward.guest_port);
}

// The relay's target lookup for one forward: the lease's address, waited for up to the bound.
// Runs on the forward's relay thread; returns at once when the forwarder stops.
detail::TcpRelay::TargetLookup lease_lookup(std::shared_ptr<NatForwarder::Stop> stop,
                                            const NatForwarderOptions& options, MacAddress mac,
                                            std::uint16_t guest_port, std::string what) {
  return [stop = std::move(stop), leases = options.leases, wait = options.lease_wait,
          poll = options.lease_poll, mac, guest_port,
          what = std::move(what)]() -> Result<detail::TcpEndpoint> {
    const auto deadline = Clock::now() + wait;
    std::optional<Error> last_error;
    for (;;) {
      auto found = lookup_leased_address(leases, mac);
      if (found && *found) return detail::TcpEndpoint{**found, guest_port};
      // An unreadable or malformed file may be caught mid-write: look again until the bound.
      last_error = found ? std::nullopt : std::optional<Error>(found.error());
      if (Clock::now() >= deadline) {
        // The reason goes to the log: the relay can only close the client.
        const auto reason =
            last_error ? last_error->message()
                       : fmt::format("no lease for the guest's MAC {} in {}", mac.to_string(),
                                     leases.name);
        Error error(last_error ? last_error->code() : Errc::not_found,
                    fmt::format("{}: connection closed after waiting {} ms for the guest's "
                                "address: {}",
                                what, wait.count(), reason));
        vmm::logger()->warn("vz: {}", error.message());
        return error;
      }
      std::unique_lock lock(stop->mutex);
      const auto next = std::min(Clock::now() + poll, deadline);
      if (stop->changed.wait_until(lock, next, [&] { return stop->stopping; })) {
        return make_error(Errc::cancelled, what + ": the forwarder stopped");
      }
    }
  };
}

}  // namespace

std::vector<NatNetworkForwards> nat_networks(const Plan& plan) {
  std::vector<NatNetworkForwards> networks;
  for (std::size_t i = 0; i < plan.networks.size(); ++i) {
    const auto& network = plan.networks[i];
    if (const auto* nat = std::get_if<NatAttachmentPlan>(&network.attachment)) {
      networks.push_back(NatNetworkForwards{i, network.mac, nat->forwards});
    }
  }
  return networks;
}

Result<std::vector<GuestAddress>> nat_guest_addresses(const std::vector<NatNetworkForwards>& networks,
                                                      const LeaseSource& leases) {
  std::vector<GuestAddress> addresses;
  for (const auto& network : networks) {
    auto found = lookup_leased_address(leases, network.mac);
    if (!found) {
      return make_error(found.error().code(), fmt::format("guest_addresses: networks[{}]: {}",
                                                          network.network,
                                                          found.error().message()));
    }
    if (!*found) {
      return make_error(Errc::not_found,
                        fmt::format("guest_addresses: networks[{}]: the guest (MAC {}) has no "
                                    "DHCP lease in {} yet (it gets one once its DHCP client "
                                    "asks, after it boots)",
                                    network.network, network.mac.to_string(), leases.name));
    }
    addresses.push_back(GuestAddress{network.network, std::move(**found)});
  }
  return addresses;
}

Result<std::unique_ptr<NatForwarder>> NatForwarder::start(std::vector<NatNetworkForwards> networks,
                                                          NatForwarderOptions options) {
  std::unique_ptr<NatForwarder> forwarder(new NatForwarder());
  forwarder->stop_ = std::make_shared<Stop>();
  for (const auto& network : networks) {
    for (std::size_t i = 0; i < network.forwards.size(); ++i) {
      const auto& forward = network.forwards[i];
      const auto what = forward_name(network.network, i, forward);
      if (forward.protocol != Protocol::tcp) {
        return make_error(Errc::unsupported, what + ": only TCP is relayed");
      }
      // The config checked both ports (1..65535); port 0 here is a test's "any free port".
      auto relay = detail::TcpRelay::start(
          detail::TcpEndpoint{forward.host_address, static_cast<std::uint16_t>(forward.host_port)},
          lease_lookup(forwarder->stop_, options, network.mac,
                       static_cast<std::uint16_t>(forward.guest_port), what));
      // On an error the relays bound so far are stopped with `forwarder`.
      if (!relay) return make_error(relay.error().code(), what + ": " + relay.error().message());
      forwarder->relays_.push_back(std::move(*relay));
    }
  }
  return forwarder;
}

NatForwarder::~NatForwarder() {
  if (stop_) {
    std::lock_guard lock(stop_->mutex);
    stop_->stopping = true;
  }
  if (stop_) stop_->changed.notify_all();
  relays_.clear();  // joins each relay's thread
}

std::vector<std::uint16_t> NatForwarder::ports() const {
  std::vector<std::uint16_t> ports;
  for (const auto& relay : relays_) ports.push_back(relay->port());
  return ports;
}

}  // namespace vmm::vz
