#include "qemu/console.hpp"

namespace vmm::qemu {

void ConsoleLineSplitter::feed(std::string_view bytes,
                               const std::function<void(std::string_view)>& on_line) {
  for (const char c : bytes) {
    if (c == '\n') {
      if (!pending_.empty() && pending_.back() == '\r') pending_.pop_back();
      on_line(pending_);
      pending_.clear();
      continue;
    }
    pending_ += c;
    if (pending_.size() >= max_line_) {
      on_line(pending_);
      pending_.clear();
    }
  }
}

void ConsoleLineSplitter::flush(const std::function<void(std::string_view)>& on_line) {
  if (!pending_.empty() && pending_.back() == '\r') pending_.pop_back();
  if (!pending_.empty()) on_line(pending_);
  pending_.clear();
}

}  // namespace vmm::qemu
