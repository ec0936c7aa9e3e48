// vmm internal (QEMU backend): turning the guest's serial byte stream into lines.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace vmm::qemu {

// Splits bytes into lines without their "\n" (and a "\r" before it). A line longer than
// `max_line` is delivered in pieces of that size, so a guest that never writes a newline cannot
// grow memory without bound.
class ConsoleLineSplitter {
 public:
  static constexpr std::size_t default_max_line = 16 * 1024;
  explicit ConsoleLineSplitter(std::size_t max_line = default_max_line) : max_line_(max_line) {}

  void feed(std::string_view bytes, const std::function<void(std::string_view)>& on_line);
  // Delivers a pending partial line (at end of stream).
  void flush(const std::function<void(std::string_view)>& on_line);

 private:
  std::size_t max_line_;
  std::string pending_;
};

}  // namespace vmm::qemu
