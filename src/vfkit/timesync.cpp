// vmm: vfkit's --timesync (vmm/vfkit_timesync.hpp): a state observer queues a clock sync on each
// resume; the GuestClock worker (machine/guest_clock.hpp) connects to the guest's vsock port and
// runs the qemu-ga exchange, so neither the callback thread nor the caller waits on the guest.
#include "vmm/vfkit_timesync.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>

#include "machine/guest_clock.hpp"
#include "vmm/logging.hpp"

namespace vmm::vfkit {

struct TimeSync::Impl {
  Impl(VirtualMachine& vm_, std::uint32_t port_) : vm(vm_), port(port_) {}

  // On the worker: connect_vsock's answer comes on the VM's callback thread; wait for it in
  // slices so that stopping is not held up.
  Result<FileDescriptor> connect() {
    auto future = vm.connect_vsock(port);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (future.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
      if (stopping) return make_error(Errc::cancelled, "--timesync: stopped");
      if (std::chrono::steady_clock::now() >= deadline) {
        return make_error(Errc::timeout, "--timesync: connecting to guest vsock port " +
                                             std::to_string(port) + " took over 10 s");
      }
    }
    return future.get();
  }

  VirtualMachine& vm;
  const std::uint32_t port;
  std::atomic<bool> stopping{false};
  vmm::detail::GuestClock clock;
  Subscription subscription;  // last: reset first
};

std::unique_ptr<TimeSync> TimeSync::start(VirtualMachine& vm, std::uint32_t vsock_port) {
  auto impl = std::make_shared<Impl>(vm, vsock_port);
  // Weak: an observer call still running while the TimeSync goes finds nothing.
  impl->subscription = vm.on_state_change([weak = std::weak_ptr<Impl>(impl)](
                                              const StateChange& change) {
    if (change.from != VmState::resuming || change.to != VmState::running) return;
    const auto self = weak.lock();
    if (!self) return;
    Impl* raw = self.get();  // the worker runs only while the Impl lives (stop() joins it)
    raw->clock.sync([raw] { return raw->connect(); }, [port = raw->port](Result<void> result) {
      if (result) {
        logger()->info("vmm: --timesync: set the guest clock (vsock port {})", port);
      } else {
        logger()->warn("vmm: --timesync: could not set the guest clock (vsock port {}): {}",
                       port, result.error().message());
      }
    });
  });
  return std::unique_ptr<TimeSync>(new TimeSync(std::move(impl)));
}

TimeSync::TimeSync(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

TimeSync::~TimeSync() {
  // The observer first (after this no sync is queued, except by a call running right now,
  // which stop() then cancels), then the worker.
  impl_->subscription.reset();
  impl_->stopping = true;
  impl_->clock.stop();
}

}  // namespace vmm::vfkit
