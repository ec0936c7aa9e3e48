// vmm internal: splits a byte stream (a guest's serial output) into lines, for every backend's
// console reader.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace vmm::detail {

class ConsoleLineSplitter {
 public:
  using Sink = std::function<void(std::string_view line)>;

  // A guest that never writes a newline must not grow memory without bound: a line reaching
  // `max_line` bytes is delivered as it is and the rest continues as a new line.
  explicit ConsoleLineSplitter(std::size_t max_line = 16 * 1024) : max_line_(max_line > 0 ? max_line : 1) {}

  // Delivers each complete line, without its "\n" and without a "\r" before it (serial
  // consoles write "\r\n"). Bytes after the last newline wait for the next feed().
  void feed(std::string_view bytes, const Sink& sink);
  // Delivers the unterminated rest, if any (at end of stream).
  void flush(const Sink& sink);

 private:
  void deliver(const Sink& sink);
  std::string pending_;
  std::size_t max_line_;
  bool cut_ = false;  // the last line was delivered for being max_line_ long
};

}  // namespace vmm::detail
