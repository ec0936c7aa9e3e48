// vmm internal: the console pump of every backend. It reads the guest's console output (QEMU's
// ttyS0 and hvc0 sockets, VZ's pipe), copies the bytes to the config's serial file or fd, splits
// them into lines (one splitter per console, so lines of one never mix with half a line of the
// other) and forwards host input (a readable SerialToFd) to the console the guest reads.
//
// The pump never calls user code itself: each line goes to `deliver_line`, which the backend
// points at the sink the core gave it (that sink only posts to the VM's callback thread).
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <string_view>
#include <thread>

#include "vmm/error.hpp"
#include "vmm/file_descriptor.hpp"

namespace vmm::detail {

struct ConsolePumpFds {
  std::array<int, 2> consoles{-1, -1};  // the guest's output streams (-1: none)
  int wake = -1;      // readable (or hung up) once the pump should drain what is left and return
  int copy = -1;      // every byte of every console is copied here (-1: no copy)
  int input = -1;     // host input for the guest (-1: none); a closed or unreadable one just ends
  int input_to = -1;  // where input is written (a console socket)
};

// Runs on the calling thread until every console has ended or `wake` fires (then it first reads
// what is already buffered, without waiting for more). A failing copy stops copying, never
// reading. SIGPIPE is blocked on the calling thread: a copy or console whose reader went away
// fails the write (EPIPE) instead of killing the process.
void pump_consoles(const ConsolePumpFds& fds,
                   const std::function<void(std::string_view line)>& deliver_line);

// pump_consoles on a thread of its own, owning its descriptors: for a backend with one console.
class ConsolePump {
 public:
  using OnLine = std::function<void(std::string_view line)>;

  struct Ends {
    FileDescriptor source;  // the guest's output (and, for a socket, where input goes)
    FileDescriptor tee;     // where the raw bytes are copied (invalid: nowhere)
    int input = -1;         // borrowed: bytes read here are written to `source`
  };

  // Starts the thread. It ends at end of stream (a partial last line is then delivered) or at
  // stop().
  static Result<std::unique_ptr<ConsolePump>> start(Ends ends, OnLine on_line);

  // Calls stop().
  ~ConsolePump();
  ConsolePump(const ConsolePump&) = delete;
  ConsolePump& operator=(const ConsolePump&) = delete;

  // Drains what the source already holds, delivers the last partial line, and ends the thread:
  // joined, or detached when called on the pump thread itself (a line callback that dropped the
  // last reference). Idempotent.
  void stop() noexcept;

  struct Shared;

 private:
  ConsolePump(FileDescriptor wake, std::thread thread)
      : wake_(std::move(wake)), thread_(std::move(thread)) {}
  FileDescriptor wake_;  // write end of the stop pipe: closing it stops the thread
  std::thread thread_;
};

}  // namespace vmm::detail
