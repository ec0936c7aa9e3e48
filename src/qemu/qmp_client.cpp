#include "qemu/qmp_client.hpp"

// Linux only (MSG_NOSIGNAL, SOCK_CLOEXEC), as all of src/qemu: CMake builds it on Linux.

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include "vmm/format.hpp"

namespace vmm::qemu {

using nlohmann::json;

QmpClient::QmpClient(FileDescriptor socket, EventHandler on_event, CloseHandler on_close,
                     std::size_t max_line)
    : socket_(std::move(socket)),
      on_event_(std::move(on_event)),
      on_close_(std::move(on_close)),
      max_line_(max_line) {}

Result<std::unique_ptr<QmpClient>> QmpClient::connect(FileDescriptor socket, EventHandler on_event,
                                                      CloseHandler on_close,
                                                      std::chrono::milliseconds timeout,
                                                      std::size_t max_line) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // A peer that stops reading must not block a command forever: bound each send.
  timeval send_timeout{5, 0};
  ::setsockopt(socket.get(), SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
  std::unique_ptr<QmpClient> client(
      new QmpClient(std::move(socket), std::move(on_event), std::move(on_close), max_line));
  client->reader_ = std::thread([c = client.get()] { c->read_loop(); });
  {
    std::unique_lock lock(client->mutex_);
    if (!client->changed_.wait_until(lock, deadline,
                                      [&] { return client->greeted_ || client->closed_; })) {
      return make_error(Errc::timeout, fmt::format("QEMU sent no QMP greeting within {} ms",
                                                   timeout.count()));
    }
    if (!client->greeted_) return *client->closed_;
  }
  const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  auto negotiated = client->execute("qmp_capabilities", json::object(),
                                    std::max(remaining, std::chrono::milliseconds(1)));
  if (!negotiated) return std::move(negotiated).error();
  return client;
}

QmpClient::~QmpClient() {
  // Wakes the reader (recv returns 0) without closing the descriptor under it.
  ::shutdown(socket_.get(), SHUT_RDWR);
  if (reader_.joinable()) reader_.join();
}

Result<void> QmpClient::send(const std::string& text, int pass_fd) {
  std::lock_guard lock(write_mutex_);
  std::size_t offset = 0;
  while (offset < text.size()) {
    iovec iov{const_cast<char*>(text.data() + offset), text.size() - offset};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int))> control{};
    if (pass_fd >= 0 && offset == 0) {
      // The descriptor rides with the first byte of the command, as QEMU expects.
      msg.msg_control = control.data();
      msg.msg_controllen = control.size();
      cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN(sizeof(int));
      std::memcpy(CMSG_DATA(cmsg), &pass_fd, sizeof(int));
    }
    const ssize_t sent = ::sendmsg(socket_.get(), &msg, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      return make_error(Errc::backend,
                        fmt::format("writing to QEMU's QMP socket failed: {}", std::strerror(errno)));
    }
    offset += static_cast<std::size_t>(sent);
  }
  return {};
}

Result<json> QmpClient::execute(std::string_view command, const json& arguments,
                                std::chrono::milliseconds timeout, int pass_fd) {
  std::uint64_t id = 0;
  {
    std::lock_guard lock(mutex_);
    if (closed_) {
      return make_error(closed_->code(), fmt::format("{}: {}", command, closed_->message()));
    }
    id = next_id_++;
    pending_.emplace(id, std::nullopt);
  }
  json request{{"execute", command}, {"id", id}};
  if (!arguments.empty()) request["arguments"] = arguments;
  if (auto sent = send(request.dump() + "\n", pass_fd); !sent) {
    std::lock_guard lock(mutex_);
    pending_.erase(id);
    return std::move(sent).error();
  }
  std::unique_lock lock(mutex_);
  const bool answered = changed_.wait_for(lock, timeout, [&] {
    const auto it = pending_.find(id);
    return it == pending_.end() || it->second.has_value();
  });
  auto it = pending_.find(id);
  if (!answered || it == pending_.end()) {
    if (it != pending_.end()) pending_.erase(it);
    return make_error(Errc::timeout, fmt::format("QEMU did not answer {} within {} ms", command,
                                                 timeout.count()));
  }
  Result<json> result = std::move(*it->second);
  pending_.erase(it);
  if (!result) {
    return make_error(result.error().code(),
                      fmt::format("{}: {}", command, result.error().message()));
  }
  return result;
}

bool QmpClient::wait_closed(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return closed_.has_value(); });
}

std::optional<Error> QmpClient::close_reason() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

void QmpClient::fail_all(Error reason) {
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    closed_ = reason;
    for (auto& [id, slot] : pending_) {
      if (!slot) slot = Result<json>(reason);
    }
  }
  changed_.notify_all();
  if (on_close_) on_close_(reason);
}

void QmpClient::dispatch(QmpMessage message) {
  switch (message.kind) {
    case QmpMessage::Kind::greeting: {
      std::lock_guard lock(mutex_);
      greeted_ = true;
      break;
    }
    case QmpMessage::Kind::success:
    case QmpMessage::Kind::error: {
      if (!message.id) return;  // not a reply to us (we always send ids)
      std::lock_guard lock(mutex_);
      const auto it = pending_.find(*message.id);
      if (it == pending_.end()) return;  // its caller timed out and left
      if (message.kind == QmpMessage::Kind::success) {
        it->second = Result<json>(std::move(message.payload));
      } else {
        it->second = Result<json>(Error(
            Errc::backend, fmt::format("QEMU reported {}: {}", message.error_class,
                                       message.error_description)));
      }
      break;
    }
    case QmpMessage::Kind::event:
      if (on_event_) on_event_(message.event, message.payload);
      return;
  }
  changed_.notify_all();
}

void QmpClient::read_loop() {
  QmpMessageSplitter splitter(max_line_);
  std::vector<char> buffer(64 * 1024);
  std::vector<std::string> lines;
  for (;;) {
    const ssize_t n = ::recv(socket_.get(), buffer.data(), buffer.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      fail_all(Error(Errc::backend, fmt::format("reading QEMU's QMP socket failed: {}",
                                                std::strerror(errno))));
      return;
    }
    if (n == 0) {
      fail_all(Error(Errc::backend, "QEMU closed the QMP connection"));
      return;
    }
    lines.clear();
    auto fed = splitter.feed(std::string_view(buffer.data(), static_cast<std::size_t>(n)), lines);
    for (auto& line : lines) {
      auto message = parse_qmp_message(line);
      if (!message) {
        fail_all(Error(Errc::backend,
                       fmt::format("QEMU sent an invalid QMP message ({})", message.error().message())));
        return;
      }
      dispatch(std::move(*message));
    }
    if (!fed) {
      fail_all(Error(Errc::backend,
                     fmt::format("QEMU sent an invalid QMP stream ({})", fed.error().message())));
      return;
    }
  }
}

}  // namespace vmm::qemu
