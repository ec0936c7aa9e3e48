// vmm internal (QEMU backend): the pure half of QMP: splitting the byte stream into lines and
// classifying each line. No I/O, no threads: fuzzed and unit-tested on its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "vmm/error.hpp"

namespace vmm::qemu {

// QMP sends one JSON document per line ("\r\n"-terminated). Bytes arrive in arbitrary chunks.
class QmpMessageSplitter {
 public:
  // A line longer than this is a broken or hostile peer: QEMU's largest replies (query-qmp-schema)
  // are a few hundred KiB.
  static constexpr std::size_t default_max_line = 4 * 1024 * 1024;

  explicit QmpMessageSplitter(std::size_t max_line = default_max_line) : max_line_(max_line) {}

  // Appends `bytes` and moves every complete line (without "\r\n") into `lines`. An error (io)
  // once a line exceeds the limit; the splitter is then unusable.
  Result<void> feed(std::string_view bytes, std::vector<std::string>& lines);
  std::size_t buffered() const { return buffer_.size(); }

 private:
  std::size_t max_line_;
  std::string buffer_;
  bool failed_ = false;
};

struct QmpMessage {
  enum class Kind { greeting, success, error, event };
  Kind kind = Kind::event;
  std::optional<std::uint64_t> id;  // replies to commands sent with a numeric id
  nlohmann::json payload;           // "return" value, "data" of an event, or the greeting
  std::string event;                // event name
  std::string error_class;          // error replies
  std::string error_description;
};

// One line -> one message. Anything that is not a JSON object of a known QMP shape is an
// `backend` error describing what was wrong (never an exception or a crash).
Result<QmpMessage> parse_qmp_message(std::string_view line);

}  // namespace vmm::qemu
