// vmm internal: VirtualMachine::sync_guest_time, and the automatic sync when a restored VM is
// resumed. The core decides (the port, the state) and hands the exchange to the VM's GuestClock
// worker, so that no caller and no engine thread waits on the guest.
#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include <spdlog/spdlog.h>

#include "machine/callback_thread.hpp"
#include "machine/guest_clock.hpp"
#include "machine/virtual_machine_impl.hpp"
#include "vmm/logging.hpp"

namespace vmm {

namespace {

bool has_guest_agent_port(const VmConfig& config) {
  const auto& ports = config.console_ports();
  return std::any_of(ports.begin(), ports.end(), [](const ConsolePort& port) {
    return port.name == detail::guest_agent_port_name;
  });
}

}  // namespace

void VirtualMachine::Impl::sync_guest_time(Completion done) {
  std::optional<Error> refusal;
  if (!has_guest_agent_port(config_)) {
    refusal.emplace(Errc::invalid_config,
                    "sync_guest_time: the VM has no console port named \"" +
                        std::string(detail::guest_agent_port_name) +
                        "\" (the QEMU guest agent's; VmConfigBuilder::console_port)");
  } else {
    std::lock_guard lock(mutex_);
    if (closed_ || state_ != VmState::running) {
      refusal.emplace(Errc::invalid_state, "sync_guest_time: not allowed while the VM is " +
                                               std::string(to_string(state_)) +
                                               " (the guest agent answers only while it runs)");
    }
  }
  if (refusal) {
    if (done) done(Result<void>(std::move(*refusal)));
    return;
  }
  auto deliver = [callbacks = std::weak_ptr<detail::CallbackThread>(callbacks_),
                  done = std::make_shared<Completion>(std::move(done))](Result<void> result) {
    const auto thread = callbacks.lock();
    if (!thread || !*done) return;
    thread->post([done, result = std::move(result)]() mutable { (*done)(std::move(result)); });
  };
  guest_clock_.sync(guest_agent_channel(), std::move(deliver));
}

detail::GuestClock::OpenChannel VirtualMachine::Impl::guest_agent_channel() {
  // Opened on the worker when the request runs: the engine is never called under mutex_, and
  // the channel is the current run's.
  return [weak = weak_from_this()]() -> Result<FileDescriptor> {
    const auto self = weak.lock();
    if (!self) return make_error(Errc::cancelled, "guest clock: the VM is gone");
    return self->console_port(detail::guest_agent_port_name);
  };
}

void VirtualMachine::Impl::guest_clock_after_locked(detail::Operation operation) {
  if (!has_guest_agent_port(config_)) return;
  switch (operation) {
    case detail::Operation::restore:
      clock_after_resume_ = true;
      break;
    case detail::Operation::start:
    case detail::Operation::stop:
      clock_after_resume_ = false;
      break;
    case detail::Operation::resume:
      if (!std::exchange(clock_after_resume_, false)) break;
      // The guest's clock stood still while the snapshot sat on disk. Not the caller's
      // business if it fails: logged, and the VM runs on.
      guest_clock_.sync(guest_agent_channel(), [](Result<void> result) {
        if (result) {
          logger()->debug("vmm: set the guest clock after the restore");
        } else {
          logger()->warn("vmm: could not set the guest clock after the restore: {}",
                         result.error().message());
        }
      });
      break;
    default:
      break;
  }
}

}  // namespace vmm
