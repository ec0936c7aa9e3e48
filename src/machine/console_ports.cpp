// vmm internal: how the host reaches its guest. VirtualMachine::console_port — which port, and whether the VM has a run whose
// channel can be handed out; the engine dups its end of that run's channel.
#include <algorithm>
#include <mutex>
#include <string>

#include "machine/virtual_machine_impl.hpp"

namespace vmm {

Result<FileDescriptor> VirtualMachine::Impl::console_port(std::string_view name) {
  const auto& ports = config_.console_ports();
  const auto found = std::find_if(ports.begin(), ports.end(),
                                  [&](const ConsolePort& port) { return port.name == name; });
  if (found == ports.end()) {
    return make_error(Errc::invalid_config,
                      "console_port: the VM has no console port named \"" + std::string(name) +
                          "\"");
  }
  detail::Engine* engine = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (closed_ || (state_ != VmState::running && state_ != VmState::paused)) {
      return make_error(Errc::invalid_state, "console_port: not allowed while the VM is " +
                                                 std::string(to_string(state_)));
    }
    engine = engine_.get();
  }
  return engine->console_port(static_cast<std::size_t>(found - ports.begin()));
}

Result<std::vector<GuestAddress>> VirtualMachine::Impl::guest_addresses() const {
  const detail::Engine* engine = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return make_error(Errc::invalid_state, "guest_addresses: the VM is closed");
    engine = engine_.get();
  }
  return engine->guest_addresses();
}

}  // namespace vmm
