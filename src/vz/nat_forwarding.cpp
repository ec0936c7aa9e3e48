// vmm vz (portable): the NAT forwarder's life in the VZ engine (nat_forwarding.hpp).
#include "vz/nat_forwarding.hpp"

#include <utility>

namespace vmm::vz {

std::shared_ptr<NatForwarding> NatForwarding::create(std::vector<NatNetworkForwards> networks,
                                                     NatForwarderOptions options) {
  return std::shared_ptr<NatForwarding>(new NatForwarding(std::move(networks), std::move(options)));
}

NatForwarding::NatForwarding(std::vector<NatNetworkForwards> networks, NatForwarderOptions options)
    : networks_(std::move(networks)), options_(std::move(options)) {}

Result<void> NatForwarding::open() {
  std::lock_guard lock(mutex_);
  if (forwarder_) return {};
  auto forwarder = NatForwarder::start(networks_, options_);
  if (!forwarder) return forwarder.error();
  forwarder_ = std::move(*forwarder);
  return {};
}

// Stopped (its threads joined) under the lock, so that an open() racing with it binds only
// after the old forwards released their ports. The relays' threads never take this lock.
void NatForwarding::close() {
  std::lock_guard lock(mutex_);
  forwarder_.reset();
}

bool NatForwarding::is_open() const {
  std::lock_guard lock(mutex_);
  return forwarder_ != nullptr;
}

detail::Engine::Done NatForwarding::closing_when(bool on_success, detail::Engine::Done done) {
  // The completion may come after the engine is gone: it keeps this object alive.
  return [self = shared_from_this(), on_success, done = std::move(done)](Result<void> result) {
    if (result.has_value() == on_success) self->close();
    done(std::move(result));
  };
}

detail::Engine::Done NatForwarding::closing_on_failure(detail::Engine::Done done) {
  return closing_when(false, std::move(done));
}

detail::Engine::Done NatForwarding::closing_on_success(detail::Engine::Done done) {
  return closing_when(true, std::move(done));
}

Result<std::vector<GuestAddress>> NatForwarding::guest_addresses() const {
  return nat_guest_addresses(networks_, options_.leases);
}

}  // namespace vmm::vz
