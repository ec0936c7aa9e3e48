// vmm: vfkit's `--timesync vsockPort=N` (opt-in; what vmm-run does with that flag). vfkit sets
// the guest's clock through the QEMU guest agent (qemu-ga, listening on guest vsock port N) when
// the host wakes from sleep. vmm-run does it when the VM is resumed (VmState resuming ->
// running: after a pause, a REST "Resume", or a restore): each time, it connects to guest vsock
// port N and runs guest-sync-delimited and guest-set-time with the host's current time. Like
// vfkit, nothing happens at start (the guest sets its own clock when it boots). Host sleep is not
// watched: there is no portable wake notification.
//
// VirtualMachine::sync_guest_time() is the same exchange over a console port instead of vsock.
#pragma once

#include <cstdint>
#include <memory>

#include "vmm/virtual_machine.hpp"

namespace vmm::vfkit {

class TimeSync {
 public:
  // Watches `vm`, which must outlive the returned object. Failures (no vsock device, nobody
  // listening on the port, an agent that does not answer within 10 s) are logged as warnings,
  // never fatal.
  static std::unique_ptr<TimeSync> start(VirtualMachine& vm, std::uint32_t vsock_port);
  // Stops watching; cancels an exchange that runs (within ~100 ms).
  ~TimeSync();
  TimeSync(const TimeSync&) = delete;
  TimeSync& operator=(const TimeSync&) = delete;

  struct Impl;

 private:
  explicit TimeSync(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace vmm::vfkit
