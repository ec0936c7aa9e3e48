// vmm internal: a QEMU guest agent client (qemu-ga) over any stream descriptor -- a console
// port's channel (org.qemu.guest_agent.0) on QEMU or Virtualization.framework, or a vsock
// connection (vfkit's --timesync). It does the one thing vmm needs: set the guest's clock to the
// host's after a restore (the guest's clock stood still while the snapshot sat on disk).
//
// Each exchange first synchronises (guest-sync-delimited with a fresh id: qemu-ga answers with
// 0xFF then the id, so stale bytes from an earlier exchange -- a reply that came too late, a
// half-written request from before a save -- are dropped), then sends guest-set-time. Every wait
// is bounded: an absent or silent agent is a `timeout` error, never a hang.
//
// Blocking, on the calling thread; the descriptor is borrowed. SIGPIPE: sockets are written with
// MSG_NOSIGNAL where the platform has it; elsewhere the calling thread must block SIGPIPE.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "vmm/error.hpp"

namespace vmm::detail {

struct GuestAgentOptions {
  // For each reply (the sync, then the command).
  std::chrono::milliseconds reply_timeout{5000};
  // When set and true, the wait ends early with `cancelled` (checked every 100 ms).
  const std::atomic<bool>* cancel = nullptr;
};

// Synchronises with the agent on `fd` and sets the guest's clock to `now` (guest-set-time, in
// ns since the Unix epoch). Errors: `timeout` (no reply in time: is qemu-ga running?), `io`
// (the channel failed or closed, or the agent wrote something that is not a reply), `backend`
// (the agent answered with an error, named in the message), `cancelled`.
Result<void> set_guest_time(int fd, std::chrono::system_clock::time_point now,
                            const GuestAgentOptions& options = {});

// The same with the host's clock read right before guest-set-time is sent.
Result<void> sync_guest_time_to_host(int fd, const GuestAgentOptions& options = {});

}  // namespace vmm::detail
