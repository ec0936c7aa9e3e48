// vmm vz (portable): the NAT forwarder's life in the VZ engine (objc/vz_engine.mm), so that the
// engine only calls it and every rule is tested here.
//
// The forwards exist while the VM runs. open() binds them on the VM's queue just before VZ is
// asked to start or resume, so that a host port in use fails that operation before the guest
// runs (and a restored VM, which is paused, gets them at its resume); a failed start closes
// them again. They close when a stop succeeds, when the guest stops the machine or VZ fails
// (EngineLink::set_on_run_ended) and when the engine is destroyed. A pause keeps them: a
// connection then waits in the guest's TCP stack like any other.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "machine/engine.hpp"
#include "vz/nat_forwarder.hpp"

namespace vmm::vz {

class NatForwarding : public std::enable_shared_from_this<NatForwarding> {
 public:
  static std::shared_ptr<NatForwarding> create(std::vector<NatNetworkForwards> networks,
                                               NatForwarderOptions options = {});

  // Binds every forward unless they are bound already (a resume after a pause keeps them and
  // their connections). The forwarder's error (naming the forward) when one cannot be bound.
  Result<void> open();
  // Stops the forwards and their connections; nothing of them runs after it returns. Any
  // thread, any number of times.
  void close();
  bool is_open() const;

  // `done`, closing the forwards first when the result is an error (start).
  detail::Engine::Done closing_on_failure(detail::Engine::Done done);
  // `done`, closing the forwards first when the result is a success (stop).
  detail::Engine::Done closing_on_success(detail::Engine::Done done);

  // Engine::guest_addresses: nat_guest_addresses() on the leases.
  Result<std::vector<GuestAddress>> guest_addresses() const;

 private:
  NatForwarding(std::vector<NatNetworkForwards> networks, NatForwarderOptions options);
  detail::Engine::Done closing_when(bool on_success, detail::Engine::Done done);

  const std::vector<NatNetworkForwards> networks_;
  const NatForwarderOptions options_;
  mutable std::mutex mutex_;
  std::unique_ptr<NatForwarder> forwarder_;
};

}  // namespace vmm::vz
