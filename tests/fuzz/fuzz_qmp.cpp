// The pure half of the QMP client on arbitrary bytes from "QEMU": QmpMessageSplitter fed in
// chunks, then parse_qmp_message on every line.
// Input: byte 0 picks the line limit and the chunk sizes (so that the fuzzer explores chunk
// boundaries and the over-long-line path); the rest is the stream.
// Properties: the splitter's lines do not depend on how the stream is chunked and equal an
// independent split (on '\n', one trailing '\r' dropped, empty lines skipped); a line over the
// limit is an io error exactly when the independent split has one; parse_qmp_message never
// throws, rejects with `backend`, and accepts only a JSON object of the kind it reports.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz_check.hpp"
#include "qemu/qmp_message.hpp"

namespace {

using vmm::qemu::QmpMessage;

struct Split {
  std::vector<std::string> lines;
  bool too_long = false;
};

// Lines up to the first one (complete or not) over `max_line` bytes, counting a '\r' before the
// '\n' as the splitter does.
Split reference_split(std::string_view stream, std::size_t max_line) {
  Split out;
  while (true) {
    const auto newline = stream.find('\n');
    const auto segment = stream.substr(0, newline);
    if (segment.size() > max_line) {
      out.too_long = true;
      return out;
    }
    if (newline == std::string_view::npos) return out;
    auto line = std::string(segment);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) out.lines.push_back(std::move(line));
    stream.remove_prefix(newline + 1);
  }
}

Split split_in_chunks(std::string_view stream, std::size_t max_line, std::uint8_t seed) {
  vmm::qemu::QmpMessageSplitter splitter(max_line);
  Split out;
  std::uint32_t state = seed * 2654435761u + 1;
  while (!stream.empty()) {
    state = state * 1103515245u + 12345u;
    const std::size_t size = seed == 0 ? stream.size() : 1 + (state >> 16) % 64;
    const auto chunk = stream.substr(0, size);
    stream.remove_prefix(chunk.size());
    if (auto fed = splitter.feed(chunk, out.lines); !fed) {
      FUZZ_CHECK(fed.error().code() == vmm::Errc::io, fed.error().to_string());
      out.too_long = true;
      // A failed splitter stays failed.
      std::vector<std::string> more;
      FUZZ_CHECK(!splitter.feed("{}\n", more) && more.empty(), "splitter recovered after an error");
      return out;
    }
  }
  return out;
}

void check_message(const std::string& line) {
  const auto message = vmm::qemu::parse_qmp_message(line);
  if (!message) {
    FUZZ_CHECK(message.error().code() == vmm::Errc::backend, message.error().to_string());
    return;
  }
  const auto document = nlohmann::json::parse(line, nullptr, false);
  FUZZ_CHECK(document.is_object(), "accepted a line that is not a JSON object: " + line);
  switch (message->kind) {
    case QmpMessage::Kind::greeting:
      FUZZ_CHECK(document.contains("QMP"), line);
      break;
    case QmpMessage::Kind::success:
      FUZZ_CHECK(document.contains("return"), line);
      break;
    case QmpMessage::Kind::error:
      FUZZ_CHECK(document.at("error").is_object(), line);
      break;
    case QmpMessage::Kind::event:
      FUZZ_CHECK(document.at("event").is_string(), line);
      break;
  }
  if (message->id) FUZZ_CHECK(document.at("id").get<std::uint64_t>() == *message->id, line);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t control = data[0];
  const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);
  // Small limits reach the over-long path; 255 means the production default.
  const std::size_t max_line = control == 255 ? vmm::qemu::QmpMessageSplitter::default_max_line
                                              : 8 + std::size_t{control} * 8;

  const auto expected = reference_split(stream, max_line);
  const auto whole = split_in_chunks(stream, max_line, 0);
  const auto chunked = split_in_chunks(stream, max_line, control);
  FUZZ_CHECK(whole.lines == expected.lines && whole.too_long == expected.too_long,
             "splitter differs from the reference split");
  FUZZ_CHECK(chunked.lines == expected.lines && chunked.too_long == expected.too_long,
             "splitter output depends on chunking");
  for (const auto& line : expected.lines) check_message(line);
  return 0;
}
