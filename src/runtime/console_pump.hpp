// vmm internal: the console pump of every backend. One thread reads the guest's serial output
// from a descriptor (QEMU's console socket, VZ's pipe), copies it to the config's serial file or
// fd, splits it into lines for CreateOptions::on_console_line, and, where the source is also the
// guest's input (a socket), forwards what a readable SerialToFd gives.
//
// The pump never calls user code itself: each line goes to `on_line`, which the backend points
// at the core's delivery (so lines reach the user on the VM's one callback thread).
#pragma once

#include <functional>
#include <memory>
#include <string_view>
#include <thread>

#include "runtime/console_line_splitter.hpp"
#include "vmm/error.hpp"
#include "vmm/file_descriptor.hpp"

namespace vmm::detail {

class ConsolePump {
 public:
  using OnLine = std::function<void(std::string_view line)>;

  struct Ends {
    FileDescriptor source;  // the guest's output (and, for a socket, its input)
    FileDescriptor tee;     // where the raw bytes are copied (invalid: nowhere); owned
    int input = -1;         // borrowed: bytes read here are written to `source`
  };

  // Starts the thread. It ends at end of stream (a partial last line is then delivered) or at
  // stop(). A tee whose reader went away (EPIPE, SIGPIPE blocked on the thread) or that fails is
  // dropped; lines go on. An input that is closed or not readable ends input, never a busy loop.
  static Result<std::unique_ptr<ConsolePump>> start(Ends ends, OnLine on_line);

  // Calls stop().
  ~ConsolePump();
  ConsolePump(const ConsolePump&) = delete;
  ConsolePump& operator=(const ConsolePump&) = delete;

  // Drains what the source already holds (without waiting for more), delivers the last partial
  // line, and ends the thread: joined, or detached when called on the pump thread itself (a line
  // callback that dropped the last reference). Idempotent.
  void stop() noexcept;

  struct Shared;

 private:
  ConsolePump(FileDescriptor wake, std::thread thread)
      : wake_(std::move(wake)), thread_(std::move(thread)) {}
  FileDescriptor wake_;  // write end of the stop pipe: closing it stops the thread
  std::thread thread_;
};

}  // namespace vmm::detail
