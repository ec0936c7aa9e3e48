// vmm internal: the qemu-ga client's I/O (see guest_agent_client.hpp); the lines themselves are
// made and parsed in guest_agent_reply.cpp.
#include "runtime/guest_agent_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <functional>
#include <string>
#include <string_view>

#include "runtime/guest_agent_reply.hpp"
#include "runtime/posix.hpp"
#include "runtime/random_bytes.hpp"

namespace vmm::detail {

namespace {

using Clock = std::chrono::steady_clock;

// Replies here are a few bytes; a longer line is not from qemu-ga.
constexpr std::size_t max_reply_line = 64 * 1024;
constexpr int poll_slice_ms = 100;

ssize_t send_some(int fd, const char* data, std::size_t size) {
#if defined(MSG_NOSIGNAL)
  const ssize_t sent = ::send(fd, data, size, MSG_NOSIGNAL);
  if (sent >= 0 || errno != ENOTSOCK) return sent;
#endif
  return ::write(fd, data, size);
}

class Exchange {
 public:
  Exchange(int fd, const GuestAgentOptions& options) : fd_(fd), options_(options) {}

  Result<void> send(std::string_view bytes, std::string_view command) {
    const auto deadline = Clock::now() + options_.reply_timeout;
    while (!bytes.empty()) {
      if (auto ready = wait_for(POLLOUT, deadline, command); !ready) return ready;
      const ssize_t sent = send_some(fd_, bytes.data(), bytes.size());
      if (sent < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (sent <= 0) {
        return errno_error(Errc::io, "guest agent: sending " + std::string(command));
      }
      bytes.remove_prefix(static_cast<std::size_t>(sent));
    }
    return {};
  }

  // Drops everything up to and including the delimiter byte qemu-ga writes before its reply
  // to guest-sync-delimited.
  Result<void> skip_to_delimiter(Clock::time_point deadline, std::string_view command) {
    while (true) {
      const auto at = buffer_.find(guest_agent_delimiter);
      if (at != std::string::npos) {
        buffer_.erase(0, at + 1);
        return {};
      }
      buffer_.clear();
      if (auto more = read_more(deadline, command); !more) return more;
    }
  }

  // The next complete line, without its newline (and a '\r' before it); empty lines skipped.
  Result<std::string> next_line(Clock::time_point deadline,
                                std::string_view command) {
    while (true) {
      const auto newline = buffer_.find('\n');
      if (newline != std::string::npos) {
        std::string line = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        return line;
      }
      if (buffer_.size() > max_reply_line) {
        return make_error(Errc::io, "guest agent: a reply to " + std::string(command) +
                                        " is longer than " + std::to_string(max_reply_line) +
                                        " bytes");
      }
      if (auto more = read_more(deadline, command); !more) return more.error();
    }
  }

  Clock::time_point deadline() const { return Clock::now() + options_.reply_timeout; }

 private:
  Result<void> read_more(Clock::time_point deadline, std::string_view command) {
    if (auto ready = wait_for(POLLIN, deadline, command); !ready) return ready;
    char chunk[4096];
    const ssize_t got = ::read(fd_, chunk, sizeof chunk);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) return {};
    if (got < 0) {
      return errno_error(Errc::io, "guest agent: reading the reply to " + std::string(command));
    }
    if (got == 0) {
      return make_error(Errc::io, "guest agent: the channel closed before the reply to " +
                                      std::string(command));
    }
    buffer_.append(chunk, static_cast<std::size_t>(got));
    return {};
  }

  Result<void> wait_for(short events, Clock::time_point deadline, std::string_view command) {
    while (true) {
      if (options_.cancel != nullptr && options_.cancel->load()) {
        return make_error(Errc::cancelled,
                          "guest agent: " + std::string(command) + " was cancelled");
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) {
        return make_error(Errc::timeout,
                          "guest agent: no reply to " + std::string(command) + " within " +
                              std::to_string(options_.reply_timeout.count()) +
                              " ms (is qemu-ga running in the guest?)");
      }
      pollfd entry{fd_, events, 0};
      const int slice = static_cast<int>(std::min<long long>(left.count(), poll_slice_ms));
      const int ready = ::poll(&entry, 1, slice);
      if (ready < 0 && errno == EINTR) continue;
      if (ready < 0) return errno_error(Errc::io, "guest agent: poll");
      if (ready == 0) continue;
      // POLLHUP/POLLERR: let read() or send() report what happened.
      return {};
    }
  }

  int fd_;
  const GuestAgentOptions& options_;
  std::string buffer_;
};

// A fresh id per exchange, so that a late reply to an earlier sync is told apart.
std::int64_t fresh_sync_id() {
  std::array<std::uint8_t, 4> bytes{};
  fill_random(bytes);
  std::int64_t id = 0;
  for (const auto byte : bytes) id = (id << 8) | byte;
  return id & 0x7fffffff;
}

Result<void> synchronise(Exchange& exchange) {
  constexpr std::string_view command = "guest-sync-delimited";
  const std::int64_t id = fresh_sync_id();
  // The delimiter first: it resets qemu-ga's parser if an earlier request was cut off.
  std::string request(1, guest_agent_delimiter);
  request += guest_sync_delimited_request(id);
  if (auto sent = exchange.send(request, command); !sent) return sent;
  const auto deadline = exchange.deadline();
  while (true) {
    if (auto skipped = exchange.skip_to_delimiter(deadline, command); !skipped) return skipped;
    auto line = exchange.next_line(deadline, command);
    if (!line) return line.error();
    auto reply = parse_guest_agent_reply(*line);
    // A stale or garbled line after a stale delimiter: keep looking for ours.
    if (!reply || !reply->ok) continue;
    if (reply->value.is_number_integer() && reply->value.get<std::int64_t>() == id) return {};
  }
}

Result<void> command(Exchange& exchange, std::string_view name, const std::string& request) {
  if (auto sent = exchange.send(request, name); !sent) return sent;
  auto line = exchange.next_line(exchange.deadline(), name);
  if (!line) return line.error();
  auto reply = parse_guest_agent_reply(*line);
  if (!reply) return reply.error();
  if (!reply->ok) {
    std::string what = reply->error_class.empty() ? "an error" : reply->error_class;
    if (!reply->error_desc.empty()) what += ": " + reply->error_desc;
    return make_error(Errc::backend,
                      "guest agent: " + std::string(name) + " failed in the guest: " + what);
  }
  return {};
}

Result<void> set_time(int fd, const std::function<std::chrono::system_clock::time_point()>& now,
                      const GuestAgentOptions& options) {
  Exchange exchange(fd, options);
  if (auto synced = synchronise(exchange); !synced) return synced;
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
      now().time_since_epoch());
  return command(exchange, "guest-set-time", guest_set_time_request(ns.count()));
}

}  // namespace

Result<void> set_guest_time(int fd, std::chrono::system_clock::time_point now,
                            const GuestAgentOptions& options) {
  return set_time(fd, [now] { return now; }, options);
}

Result<void> sync_guest_time_to_host(int fd, const GuestAgentOptions& options) {
  return set_time(fd, [] { return std::chrono::system_clock::now(); }, options);
}

}  // namespace vmm::detail
