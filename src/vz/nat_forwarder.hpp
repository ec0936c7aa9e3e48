// vmm vz (portable): port forwarding and guest addresses on Virtualization.framework NAT
// networks, which have neither (issue 10). The guest's IPv4 address is the one macOS's DHCP
// server leased to its MAC (/var/db/dhcpd_leases, as vfkit and crc find it); each TCP forward is
// a TcpRelay (runtime/tcp_relay.hpp) from its host address and port to that address.
//
// The address is looked up for each connection, not once: the guest may get its lease only
// after the forwards are listening (they are bound before the VM starts, so that a port in use
// fails start() before the VM runs), and a new run may get a new address. While the guest has
// no lease a connection waits for it, polling the leases, up to `lease_wait`; then it is closed
// and the reason logged. The wait runs on that forward's relay thread: other forwards go on,
// and nothing of the same forward can reach the guest before its lease exists anyway.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/tcp_relay.hpp"
#include "vmm/mac_address.hpp"
#include "vmm/virtual_machine.hpp"
#include "vz/dhcp_leases.hpp"
#include "vz/plan.hpp"

namespace vmm::vz {

// One NAT network of the plan: its index in config().networks(), its MAC and its forwards.
struct NatNetworkForwards {
  std::size_t network = 0;
  MacAddress mac;
  std::vector<PortForward> forwards;
};

// Every NAT network of the plan, in config order (those without forwards too: they have
// guest addresses).
std::vector<NatNetworkForwards> nat_networks(const Plan& plan);

struct NatForwarderOptions {
  LeaseSource leases = lease_file();
  // How long one connection waits for the guest's lease, and how often it looks.
  std::chrono::milliseconds lease_wait{60'000};
  std::chrono::milliseconds lease_poll{250};
};

// Per NAT network, the address of its MAC's newest lease. not_found naming the network and the
// MAC when one has no lease yet (the guest has not asked for one, or is not running); the
// lease source's error when it cannot be read.
Result<std::vector<GuestAddress>> nat_guest_addresses(const std::vector<NatNetworkForwards>& networks,
                                                      const LeaseSource& leases);

class NatForwarder {
 public:
  // Binds every TCP forward (atomic: on an error nothing stays bound). The error names the
  // forward: io when its host address and port cannot be bound (e.g. in use); unsupported for a
  // UDP forward (the plan refuses them before this).
  static Result<std::unique_ptr<NatForwarder>> start(std::vector<NatNetworkForwards> networks,
                                                     NatForwarderOptions options);

  // Ends every lease wait at once, then stops the relays (joining their threads): clients see
  // their connections end. Nothing runs after it returns.
  ~NatForwarder();
  NatForwarder(const NatForwarder&) = delete;
  NatForwarder& operator=(const NatForwarder&) = delete;

  // The bound host ports, network by network and forward by forward (a forward's host port 0
  // binds any free port: tests).
  std::vector<std::uint16_t> ports() const;

  struct Stop;  // the lease waits' stop signal, shared with the relays' lookups

 private:
  NatForwarder() = default;

  std::shared_ptr<Stop> stop_;
  std::vector<std::unique_ptr<detail::TcpRelay>> relays_;
};

}  // namespace vmm::vz
