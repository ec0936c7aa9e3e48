// Guest console bytes (untrusted: the guest writes them) through the line splitter that every
// backend's console reader uses (detail::ConsoleLineSplitter).
// Input: byte 0 picks the line limit and chunk sizes; the rest is the console stream.
// Properties: the lines do not depend on how the stream is chunked; no line holds a '\n' or is
// longer than the limit; the bytes delivered plus the line ends consumed account for the whole
// stream.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "console_line_splitter.hpp"
#include "fuzz_check.hpp"

namespace {

using Splitter = vmm::detail::ConsoleLineSplitter;

std::vector<std::string> split(std::string_view stream, std::size_t max_line, std::uint8_t seed) {
  Splitter splitter(max_line);
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

void check_splitter(std::string_view stream, std::size_t max_line,
                                        std::uint8_t seed) {
  const auto whole = split(stream, max_line, 0);
  const auto chunked = split(stream, max_line, seed);
  FUZZ_CHECK(whole == chunked, "lines depend on chunking");
  std::size_t delivered = 0;
  for (const auto& line : whole) {
    FUZZ_CHECK(line.find('\n') == std::string::npos, "a line holds a newline");
    FUZZ_CHECK(line.size() <= max_line, "a line is longer than the limit");
    delivered += line.size();
  }
  // Only '\n' and a '\r' just before one (or at a cut) may be dropped.
  const auto droppable = static_cast<std::size_t>(std::count(stream.begin(), stream.end(), '\n') +
                                                  std::count(stream.begin(), stream.end(), '\r'));
  FUZZ_CHECK(delivered <= stream.size() && delivered + droppable >= stream.size(),
             "bytes other than line ends were lost or invented");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t control = data[0];
  const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::size_t max_line = 1 + control % 64;
  check_splitter(stream, max_line, control);
  return 0;
}
