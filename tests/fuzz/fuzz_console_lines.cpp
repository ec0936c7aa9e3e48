// Guest console bytes (untrusted: the guest writes them) through detail::ConsoleLineSplitter,
// which both backends' console readers use.
// Input: byte 0 picks the line limit and chunk sizes; the rest is the console stream.
// Properties: the lines do not depend on how the stream is chunked, and equal an independent
// whole-stream reading of the documented rules (a line ends at '\n', without a '\r' before it;
// a line reaching the limit is delivered as it is, less a trailing '\r', and a '\n' right after
// it ends it rather than making an empty line; the unterminated rest comes at flush); no line
// holds a '\n' or is longer than the limit; only line ends ('\n', '\r') are ever dropped.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/console_line_splitter.hpp"
#include "fuzz_check.hpp"

namespace {

std::vector<std::string> split(std::string_view stream, std::size_t max_line, std::uint8_t seed) {
  vmm::detail::ConsoleLineSplitter splitter(max_line);
  std::vector<std::string> lines;
  const auto sink = [&](std::string_view line) { lines.emplace_back(line); };
  std::uint32_t state = seed * 2654435761u + 1;
  while (!stream.empty()) {
    state = state * 1103515245u + 12345u;
    const std::size_t size = seed == 0 ? stream.size() : 1 + (state >> 16) % 32;
    const auto chunk = stream.substr(0, size);
    stream.remove_prefix(chunk.size());
    splitter.feed(chunk, sink);
  }
  splitter.flush(sink);
  return lines;
}

std::vector<std::string> reference(std::string_view stream, std::size_t max_line) {
  std::vector<std::string> lines;
  std::string line;
  const auto deliver = [&] {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
    line.clear();
  };
  bool cut = false;
  for (const char c : stream) {
    const bool after_cut = cut;
    cut = false;
    if (c == '\n') {
      if (!after_cut) deliver();
      continue;
    }
    line += c;
    if (line.size() == max_line) {
      deliver();
      cut = true;
    }
  }
  if (!line.empty()) deliver();
  return lines;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t control = data[0];
  const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::size_t max_line = 1 + control % 64;
  const auto whole = split(stream, max_line, 0);
  FUZZ_CHECK(split(stream, max_line, control) == whole, "lines depend on chunking");
  FUZZ_CHECK(reference(stream, max_line) == whole, "lines differ from the documented rules");
  std::size_t delivered = 0;
  for (const auto& line : whole) {
    FUZZ_CHECK(line.find('\n') == std::string::npos, "a line holds a newline");
    FUZZ_CHECK(line.size() <= max_line, "a line is longer than the limit");
    delivered += line.size();
  }
  const auto droppable = static_cast<std::size_t>(std::count(stream.begin(), stream.end(), '\n') +
                                                  std::count(stream.begin(), stream.end(), '\r'));
  FUZZ_CHECK(delivered <= stream.size() && delivered + droppable >= stream.size(),
             "bytes other than line ends were lost or invented");
  return 0;
}
