// vmm internal: qemu-ga's request and reply lines (see guest_agent_reply.hpp).
#include "runtime/guest_agent_reply.hpp"

#include <string>

namespace vmm::detail {

namespace {

std::string request_line(std::string_view command, nlohmann::json arguments) {
  nlohmann::json request = {{"execute", command}, {"arguments", std::move(arguments)}};
  return request.dump() + "\n";
}

// At most this much of a bad line goes into an error message.
std::string excerpt(std::string_view line) {
  constexpr std::size_t limit = 80;
  std::string text(line.substr(0, limit));
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  }
  return line.size() > limit ? text + "..." : text;
}

std::string string_member(const nlohmann::json& object, const char* key) {
  const auto found = object.find(key);
  if (found == object.end() || !found->is_string()) return {};
  return found->get<std::string>();
}

}  // namespace

std::string guest_sync_delimited_request(std::int64_t id) {
  return request_line("guest-sync-delimited", {{"id", id}});
}

std::string guest_set_time_request(std::int64_t unix_time_ns) {
  return request_line("guest-set-time", {{"time", unix_time_ns}});
}

Result<GuestAgentReply> parse_guest_agent_reply(std::string_view line) {
  auto document = nlohmann::json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) {
    return make_error(Errc::io, "guest agent: a reply is not JSON: \"" + excerpt(line) + "\"");
  }
  if (!document.is_object()) {
    return make_error(Errc::io,
                      "guest agent: a reply is not a JSON object: \"" + excerpt(line) + "\"");
  }
  const bool has_return = document.contains("return");
  const auto error = document.find("error");
  if (has_return == (error != document.end())) {
    return make_error(Errc::io, "guest agent: a reply has neither or both of \"return\" and "
                                "\"error\": \"" + excerpt(line) + "\"");
  }
  GuestAgentReply reply;
  if (has_return) {
    reply.ok = true;
    reply.value = std::move(document["return"]);
    return reply;
  }
  if (!error->is_object()) {
    return make_error(Errc::io,
                      "guest agent: an error reply's \"error\" is not an object: \"" +
                          excerpt(line) + "\"");
  }
  reply.error_class = string_member(*error, "class");
  reply.error_desc = string_member(*error, "desc");
  return reply;
}

}  // namespace vmm::detail
