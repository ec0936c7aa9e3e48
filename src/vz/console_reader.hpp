// vmm vz: reads the guest's serial output from a pipe, copies it to the config's serial file
// or fd (if any) and hands each line to CreateOptions::on_console_line, on its own thread.
// Plain POSIX, so it is tested on every platform.
#pragma once

#include <functional>
#include <memory>
#include <string_view>
#include <utility>
#include <variant>

#include "runtime/console_pump.hpp"
#include "vmm/error.hpp"
#include "vmm/file_descriptor.hpp"
#include "vz/plan.hpp"

namespace vmm::vz {

// A pipe with close-on-exec ends: {read end, write end}.
Result<std::pair<FileDescriptor, FileDescriptor>> make_console_pipe();

// The descriptor the console bytes are copied to: the file opened for writing (appending or
// truncating as planned), a dup of the caller's fd, or an invalid descriptor for none.
Result<FileDescriptor> open_serial_tee(const decltype(SerialPipePlan::tee)& tee);

// The guest's console pipe, read by the shared console pump (src/runtime/console_pump.hpp).
class ConsoleReader {
 public:
  using OnLine = detail::ConsolePump::OnLine;

  // Starts the pump thread. It ends at end of stream (the write end closed) or when the reader
  // is destroyed; a partial last line is delivered then.
  static Result<std::unique_ptr<ConsoleReader>> start(FileDescriptor read_end, FileDescriptor tee,
                                                      OnLine on_line);

  // Stops the thread and waits for it, unless called from the thread itself (a line callback
  // dropping the last VM reference), which then finishes on its own after the callback.
  ~ConsoleReader() = default;
  ConsoleReader(const ConsoleReader&) = delete;
  ConsoleReader& operator=(const ConsoleReader&) = delete;

 private:
  explicit ConsoleReader(std::unique_ptr<detail::ConsolePump> pump) : pump_(std::move(pump)) {}
  std::unique_ptr<detail::ConsolePump> pump_;
};

}  // namespace vmm::vz
