// vmm internal: the pure half of the QEMU guest agent protocol (qemu-ga's JSON lines): building
// the two requests vmm sends and classifying one reply line. No I/O: fuzzed and unit-tested on
// its own. The protocol is QEMU's (docs/interop/qemu-ga-ref): one JSON object per line, a
// request {"execute": NAME, "arguments": {...}}, a reply {"return": VALUE} or
// {"error": {"class": CLASS, "desc": TEXT}}.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "vmm/error.hpp"

namespace vmm::detail {

// qemu-ga resets its JSON parser when it reads this byte, and writes it right before its reply to
// guest-sync-delimited: everything before it on the stream is stale and can be dropped.
inline constexpr char guest_agent_delimiter = '\xff';

// "{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":ID}}\n"
std::string guest_sync_delimited_request(std::int64_t id);
// "{\"execute\":\"guest-set-time\",\"arguments\":{\"time\":NS}}\n" (ns since the Unix epoch)
std::string guest_set_time_request(std::int64_t unix_time_ns);

struct GuestAgentReply {
  bool ok = false;             // {"return": ...}
  nlohmann::json value;        // the "return" value when ok
  std::string error_class;     // else the error's "class" (may be empty)
  std::string error_desc;      // and its "desc" (may be empty)
};

// One line (without its newline) -> one reply. Anything that is not a JSON object with exactly
// one of "return" or "error" (an object) is an `io` error saying what was wrong, never an
// exception. Lines of the agent's own making that are not replies (none today) are errors too:
// the caller decides whether to skip them.
Result<GuestAgentReply> parse_guest_agent_reply(std::string_view line);

}  // namespace vmm::detail
