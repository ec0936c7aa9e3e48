// A stand-in for qemu-ga on one end of a stream socket: answers guest-sync-delimited and
// guest-set-time as qemu-ga does (0xFF before the sync reply), or misbehaves as told. Used by the
// guest agent client's tests and by the machine and vfkit tests of the clock after a restore.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "vmm/file_descriptor.hpp"

namespace vmm::test {

struct FakeGuestAgentBehaviour {
  bool silent = false;         // reads requests, never answers
  std::string before_sync;     // bytes written before the (first) sync reply: stale replies
  std::optional<std::string> set_time_error_class;  // answer guest-set-time with this error
  std::string set_time_error_desc;
};

class FakeGuestAgent {
 public:
  explicit FakeGuestAgent(FileDescriptor end, FakeGuestAgentBehaviour behaviour = {});
  ~FakeGuestAgent();  // shuts the socket down and joins
  FakeGuestAgent(const FakeGuestAgent&) = delete;
  FakeGuestAgent& operator=(const FakeGuestAgent&) = delete;

  // The "time" argument of every guest-set-time received, in ns since the Unix epoch.
  std::vector<std::int64_t> times_set() const;
  // Every command name received, in order.
  std::vector<std::string> commands() const;

 private:
  void serve();
  void answer(const std::string& line);

  FileDescriptor end_;
  FakeGuestAgentBehaviour behaviour_;
  mutable std::mutex mutex_;
  std::vector<std::int64_t> times_;
  std::vector<std::string> commands_;
  bool stale_sent_ = false;
  std::thread thread_;
};

}  // namespace vmm::test
