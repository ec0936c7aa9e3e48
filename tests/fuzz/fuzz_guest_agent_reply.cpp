// The qemu-ga reply parser (runtime/guest_agent_reply.hpp) on arbitrary lines from "the guest".
// Properties: parse_guest_agent_reply never throws; it rejects with `io`; it accepts only a JSON
// object with exactly one of "return" and "error" (an object), ok exactly when it has "return",
// and the value it returns is that "return" member.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz_check.hpp"
#include "runtime/guest_agent_reply.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  const auto reply = vmm::detail::parse_guest_agent_reply(line);
  const auto document = nlohmann::json::parse(line.begin(), line.end(), nullptr, false);
  const bool is_object = !document.is_discarded() && document.is_object();
  const bool has_return = is_object && document.contains("return");
  const bool has_error = is_object && document.contains("error");
  const bool error_is_object = has_error && document["error"].is_object();
  const bool valid = is_object && has_return != has_error && (has_return || error_is_object);
  if (!reply) {
    FUZZ_CHECK(reply.error().code() == vmm::Errc::io, reply.error().to_string());
    FUZZ_CHECK(!valid, "a valid reply was rejected: " + reply.error().message());
    return 0;
  }
  FUZZ_CHECK(valid, "an invalid reply was accepted");
  FUZZ_CHECK(reply->ok == has_return, "ok does not match \"return\"");
  if (reply->ok) FUZZ_CHECK(reply->value == document["return"], "the value is not \"return\"");
  return 0;
}
