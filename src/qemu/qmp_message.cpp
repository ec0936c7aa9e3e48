#include "qemu/qmp_message.hpp"

#include "vmm/format.hpp"

namespace vmm::qemu {

using nlohmann::json;

Result<void> QmpMessageSplitter::feed(std::string_view bytes, std::vector<std::string>& lines) {
  if (failed_) return make_error(Errc::io, "QMP stream already failed");
  while (!bytes.empty()) {
    const auto newline = bytes.find('\n');
    const auto chunk = bytes.substr(0, newline);
    if (buffer_.size() + chunk.size() > max_line_) {
      failed_ = true;
      buffer_.clear();
      return make_error(Errc::io, fmt::format("QMP line longer than {} bytes", max_line_));
    }
    buffer_.append(chunk);
    if (newline == std::string_view::npos) break;
    bytes.remove_prefix(newline + 1);
    if (!buffer_.empty() && buffer_.back() == '\r') buffer_.pop_back();
    if (!buffer_.empty()) lines.push_back(std::move(buffer_));
    buffer_.clear();
  }
  return {};
}

Result<QmpMessage> parse_qmp_message(std::string_view line) {
  // No exceptions from the parser: a discarded value means invalid JSON.
  json doc = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return make_error(Errc::backend, fmt::format("QMP: not JSON: {:.80}", line));
  }
  if (!doc.is_object()) {
    return make_error(Errc::backend, fmt::format("QMP: not a JSON object: {:.80}", line));
  }
  QmpMessage message;
  if (const auto id = doc.find("id"); id != doc.end()) {
    if (!id->is_number_unsigned()) {
      return make_error(Errc::backend, fmt::format("QMP: reply id is not ours: {:.80}", line));
    }
    message.id = id->get<std::uint64_t>();
  }
  if (const auto greeting = doc.find("QMP"); greeting != doc.end()) {
    message.kind = QmpMessage::Kind::greeting;
    message.payload = *greeting;
  } else if (const auto ret = doc.find("return"); ret != doc.end()) {
    message.kind = QmpMessage::Kind::success;
    message.payload = *ret;
  } else if (const auto error = doc.find("error"); error != doc.end()) {
    message.kind = QmpMessage::Kind::error;
    if (!error->is_object()) {
      return make_error(Errc::backend, fmt::format("QMP: malformed error: {:.80}", line));
    }
    const auto cls = error->find("class");
    const auto desc = error->find("desc");
    message.error_class = cls != error->end() && cls->is_string() ? cls->get<std::string>() : "";
    message.error_description =
        desc != error->end() && desc->is_string() ? desc->get<std::string>() : "";
  } else if (const auto event = doc.find("event"); event != doc.end()) {
    if (!event->is_string()) {
      return make_error(Errc::backend, fmt::format("QMP: malformed event: {:.80}", line));
    }
    message.kind = QmpMessage::Kind::event;
    message.event = event->get<std::string>();
    if (const auto data = doc.find("data"); data != doc.end()) message.payload = *data;
  } else {
    return make_error(Errc::backend, fmt::format("QMP: unknown message: {:.80}", line));
  }
  return message;
}

}  // namespace vmm::qemu
