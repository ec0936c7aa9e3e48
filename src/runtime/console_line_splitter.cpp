#include "runtime/console_line_splitter.hpp"

#include <algorithm>
#include <utility>

namespace vmm::detail {

void ConsoleLineSplitter::deliver(const Sink& sink) {
  std::string_view line(pending_);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  sink(line);
  pending_.clear();
}

void ConsoleLineSplitter::feed(std::string_view bytes, const Sink& sink) {
  while (!bytes.empty()) {
    // A line cut at max_line_ and then ended by the guest: the newline ends the cut line, it
    // does not make an empty one.
    if (std::exchange(cut_, false) && bytes.front() == '\n') {
      bytes.remove_prefix(1);
      continue;
    }
    const std::size_t room = max_line_ - pending_.size();
    const std::size_t newline = bytes.substr(0, room).find('\n');
    if (newline != std::string_view::npos) {
      pending_.append(bytes.substr(0, newline));
      bytes.remove_prefix(newline + 1);
      deliver(sink);
      continue;
    }
    const std::size_t take = std::min(room, bytes.size());
    pending_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    if (pending_.size() == max_line_) {
      deliver(sink);
      cut_ = true;
    }
  }
}

void ConsoleLineSplitter::flush(const Sink& sink) {
  if (!pending_.empty()) deliver(sink);
}

}  // namespace vmm::detail
