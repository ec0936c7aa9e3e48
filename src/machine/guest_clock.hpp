// vmm internal: setting a guest's clock through its QEMU guest agent, off the caller's thread.
// VirtualMachine::sync_guest_time() and the automatic sync after a restored VM is resumed both
// hand their work here; the exchange itself is runtime/guest_agent_client.hpp.
//
// One worker thread per VM, started on the first request (a VM that never syncs has none). It
// runs requests one at a time, in order: it opens the channel (a console port's descriptor, or
// any stream), runs the exchange with bounded waits, and calls the request's Done on the
// worker thread. stop() cancels the exchange that runs (within ~100 ms), completes the queued
// ones with `cancelled` and joins; nothing starts after it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string_view>
#include <thread>

#include "vmm/error.hpp"
#include "vmm/file_descriptor.hpp"

namespace vmm::detail {

// The console port name qemu-ga listens on (QEMU's and libvirt's convention).
inline constexpr std::string_view guest_agent_port_name = "org.qemu.guest_agent.0";

class GuestClock {
 public:
  using OpenChannel = std::function<Result<FileDescriptor>()>;
  using Done = std::function<void(Result<void>)>;

  // `reply_timeout`: for each reply of the agent (see GuestAgentOptions).
  explicit GuestClock(std::chrono::milliseconds reply_timeout = std::chrono::seconds(10));
  ~GuestClock();  // stop()
  GuestClock(const GuestClock&) = delete;
  GuestClock& operator=(const GuestClock&) = delete;

  // Queues a sync to the host's current time (read when the request runs). Never blocks.
  void sync(OpenChannel open, Done done);
  void stop();

 private:
  struct Request {
    OpenChannel open;
    Done done;
  };
  void work();

  const std::chrono::milliseconds reply_timeout_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Request> queue_;
  bool stopping_ = false;
  std::atomic<bool> cancel_{false};
  std::thread thread_;
};

}  // namespace vmm::detail
