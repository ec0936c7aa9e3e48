#include "qemu/qmp_client.hpp"

// Linux only (MSG_NOSIGNAL, SOCK_CLOEXEC), as all of src/qemu: CMake builds it on Linux.

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include "vmm/format.hpp"

namespace vmm::qemu {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

std::chrono::milliseconds until(Clock::time_point deadline) {
  return std::max(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()),
                  std::chrono::milliseconds(0));
}

// A reply as execute() and send_command() report it.
Result<json> reply_of(QmpMessage& message) {
  if (message.kind == QmpMessage::Kind::success) return Result<json>(std::move(message.payload));
  return Result<json>(Error(Errc::backend, fmt::format("QEMU reported {}: {}", message.error_class,
                                                       message.error_description)));
}

Error named(std::string_view command, const Error& reason) {
  return Error(reason.code(), fmt::format("{}: {}", command, reason.message()));
}

Error no_answer(std::string_view command, std::chrono::milliseconds timeout) {
  return Error(Errc::timeout,
               fmt::format("QEMU did not answer {} within {} ms", command, timeout.count()));
}

}  // namespace

QmpClient::QmpClient(FileDescriptor socket, EventHandler on_event, CloseHandler on_close,
                     std::size_t max_line)
    : socket_(std::move(socket)),
      on_event_(std::move(on_event)),
      on_close_(std::move(on_close)),
      splitter_(max_line) {}

Result<std::unique_ptr<QmpClient>> QmpClient::connect(FileDescriptor socket, EventHandler on_event,
                                                      CloseHandler on_close,
                                                      std::chrono::milliseconds timeout,
                                                      std::size_t max_line) {
  const auto deadline = Clock::now() + timeout;
  // A peer that stops reading must not block a command forever: bound each send.
  timeval send_timeout{5, 0};
  ::setsockopt(socket.get(), SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
  std::unique_ptr<QmpClient> client(
      new QmpClient(std::move(socket), std::move(on_event), std::move(on_close), max_line));
  while (!client->greeted_ && !client->closed_ && Clock::now() < deadline) {
    client->read_once(until(deadline));
  }
  if (!client->greeted_) {
    if (client->closed_) return *client->closed_;
    return make_error(Errc::timeout, fmt::format("QEMU sent no QMP greeting within {} ms",
                                                 timeout.count()));
  }
  auto negotiated = client->execute("qmp_capabilities", json::object(),
                                    std::max(until(deadline), std::chrono::milliseconds(1)));
  if (!negotiated) return std::move(negotiated).error();
  return client;
}

QmpClient::~QmpClient() {
  close(Error(Errc::cancelled, "the QMP connection was closed by vmm"));
}

Result<void> QmpClient::send_request(std::uint64_t id, std::string_view command,
                                     const json& arguments, int pass_fd) {
  json request{{"execute", command}, {"id", id}};
  if (!arguments.empty()) request["arguments"] = arguments;
  return send(request.dump() + "\n", pass_fd);
}

Result<void> QmpClient::send(const std::string& text, int pass_fd) {
  std::lock_guard lock(send_mutex_);
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
  const auto failed = [&](const Error& reason) { return Unexpected(named(command, reason)); };
  if (closed_) return failed(*closed_);
  const auto deadline = Clock::now() + timeout;
  awaited_id_ = next_id_++;
  reply_.reset();
  if (auto sent = send_request(awaited_id_, command, arguments, pass_fd); !sent) {
    awaited_id_ = 0;
    return std::move(sent).error();
  }
  // Events read on the way are dispatched in order, before the reply is returned.
  while (!reply_ && !closed_ && Clock::now() < deadline) read_once(until(deadline));
  awaited_id_ = 0;  // a late reply to a timed-out command is dropped
  if (!reply_) {
    if (closed_) return failed(*closed_);
    return Unexpected(no_answer(command, timeout));
  }
  Result<json> result = std::move(*reply_);
  reply_.reset();
  if (!result) return failed(result.error());
  return result;
}

Result<void> QmpClient::send_command(std::string_view command, ReplyHandler on_reply,
                                     std::chrono::milliseconds timeout) {
  const std::uint64_t id = next_id_++;
  {
    // Registered before the command leaves, so that its reply always finds it.
    std::lock_guard lock(sent_mutex_);
    if (!accepting_) {
      return make_error(Errc::backend, fmt::format("{}: the QMP connection has ended", command));
    }
    sent_.emplace(id, Sent{std::string(command), std::move(on_reply), Clock::now() + timeout,
                           timeout});
  }
  if (auto written = send_request(id, command, json::object(), -1); !written) {
    take_sent(id);  // dropped unused, as promised
    return written;
  }
  return {};
}

std::optional<QmpClient::Sent> QmpClient::take_sent(std::uint64_t id) {
  std::lock_guard lock(sent_mutex_);
  auto it = sent_.find(id);
  if (it == sent_.end()) return std::nullopt;
  Sent sent = std::move(it->second);
  sent_.erase(it);
  return sent;
}

std::optional<std::chrono::milliseconds> QmpClient::expire_overdue() {
  std::vector<std::pair<ReplyHandler, Error>> overdue;
  std::optional<std::chrono::milliseconds> next;
  {
    std::lock_guard lock(sent_mutex_);
    const auto now = Clock::now();
    for (auto it = sent_.begin(); it != sent_.end();) {
      if (it->second.deadline <= now) {
        overdue.emplace_back(std::move(it->second.on_reply),
                             no_answer(it->second.command, it->second.timeout));
        it = sent_.erase(it);
      } else {
        const auto left = until(it->second.deadline) + std::chrono::milliseconds(1);
        next = next ? std::min(*next, left) : left;
        ++it;
      }
    }
  }
  for (auto& [handler, error] : overdue) handler(Result<json>(std::move(error)));
  return next;
}

void QmpClient::fail_sent(const Error& reason) {
  std::map<std::uint64_t, Sent> sent;
  {
    std::lock_guard lock(sent_mutex_);
    accepting_ = false;
    sent.swap(sent_);
  }
  for (auto& [id, command] : sent) command.on_reply(Result<json>(named(command.command, reason)));
}

void QmpClient::read_available() {
  while (read_once(std::chrono::milliseconds(0))) {
  }
}

bool QmpClient::wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                           int wake_fd) {
  const auto deadline = Clock::now() + timeout;
  while (!done() && !closed_ && Clock::now() < deadline) {
    if (!read_once(until(deadline), wake_fd) && wake_fd >= 0) {
      pollfd wake{wake_fd, POLLIN, 0};
      if (::poll(&wake, 1, 0) > 0) break;
    }
  }
  return done();
}

bool QmpClient::wait_closed(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!closed_ && Clock::now() < deadline) read_once(until(deadline));
  return closed_.has_value();
}

bool QmpClient::read_once(std::chrono::milliseconds timeout, int wake_fd) {
  if (closed_) return false;
  std::array<pollfd, 2> fds{{{socket_.get(), POLLIN, 0}, {wake_fd, POLLIN, 0}}};
  const int ready = ::poll(fds.data(), wake_fd >= 0 ? 2 : 1, static_cast<int>(timeout.count()));
  if (ready <= 0 || fds[0].revents == 0) return false;  // timeout, EINTR or the wake fd
  std::array<char, 64 * 1024> buffer;
  const ssize_t n = ::recv(socket_.get(), buffer.data(), buffer.size(), MSG_DONTWAIT);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n < 0) {
    close(Error(Errc::backend,
                fmt::format("reading QEMU's QMP socket failed: {}", std::strerror(errno))));
    return false;
  }
  if (n == 0) {
    close(Error(Errc::backend, "QEMU closed the QMP connection"));
    return false;
  }
  std::vector<std::string> lines;
  auto fed = splitter_.feed(std::string_view(buffer.data(), static_cast<std::size_t>(n)), lines);
  for (auto& line : lines) {
    auto message = parse_qmp_message(line);
    if (!message) {
      close(Error(Errc::backend,
                  fmt::format("QEMU sent an invalid QMP message ({})", message.error().message())));
      return false;
    }
    dispatch(std::move(*message));
  }
  if (!fed) {
    close(Error(Errc::backend,
                fmt::format("QEMU sent an invalid QMP stream ({})", fed.error().message())));
    return false;
  }
  return true;
}

void QmpClient::close(Error reason) {
  if (closed_) return;
  closed_ = std::move(reason);
  fail_sent(*closed_);
  if (on_close_) on_close_(*closed_);
}

void QmpClient::dispatch(QmpMessage message) {
  switch (message.kind) {
    case QmpMessage::Kind::greeting:
      greeted_ = true;
      return;
    case QmpMessage::Kind::success:
    case QmpMessage::Kind::error: {
      if (!message.id) return;  // not ours: we always send ids
      if (awaited_id_ != 0 && *message.id == awaited_id_) {
        reply_ = reply_of(message);
        return;
      }
      // A send_command() reply; or nobody's (its caller timed out and left).
      if (auto sent = take_sent(*message.id)) {
        Result<json> reply = reply_of(message);
        if (!reply) reply = Result<json>(named(sent->command, reply.error()));
        sent->on_reply(std::move(reply));
      }
      return;
    }
    case QmpMessage::Kind::event:
      if (on_event_) on_event_(message.event, message.payload);
      return;
  }
}

}  // namespace vmm::qemu
