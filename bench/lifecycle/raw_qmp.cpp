#include "lifecycle/raw_qmp.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "common/failure.hpp"

namespace lifecycle {

using vmm_bench::errno_text;
using vmm_bench::fail;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<long long>(0, left.count()));
}

void RawQmp::read_greeting(std::chrono::milliseconds timeout) {
  const auto message = read_message(Clock::now() + timeout, "the QMP greeting");
  if (!message.contains("QMP")) fail("baseline: expected the QMP greeting, got {}", message.dump());
}

json RawQmp::execute(std::string_view command, const json& arguments,
                     std::chrono::milliseconds timeout, int pass_fd) {
  json request{{"execute", command}};
  if (!arguments.empty()) request["arguments"] = arguments;
  send(request.dump() + "\n", pass_fd);
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    auto message = read_message(deadline, command);
    if (message.contains("event")) continue;
    if (auto it = message.find("return"); it != message.end()) return *it;
    if (auto it = message.find("error"); it != message.end()) {
      fail("baseline: QEMU refused {}: {}", command, it->dump());
    }
  }
}

std::string RawQmp::wait_migration(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!migration_final()) read_message(deadline, "the MIGRATION event");
  return migration_status_;
}

bool RawQmp::migration_final() const {
  return migration_status_ == "completed" || migration_status_ == "failed" ||
         migration_status_ == "cancelled";
}

void RawQmp::send(const std::string& text, int pass_fd) {
  std::size_t offset = 0;
  while (offset < text.size()) {
    iovec iov{const_cast<char*>(text.data() + offset), text.size() - offset};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int))> control{};
    if (pass_fd >= 0 && offset == 0) {
      msg.msg_control = control.data();
      msg.msg_controllen = control.size();
      cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN(sizeof(int));
      std::memcpy(CMSG_DATA(cmsg), &pass_fd, sizeof(int));
    }
    const ssize_t sent = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0) fail("baseline: writing to QMP failed: {}", errno_text());
    offset += static_cast<std::size_t>(sent);
  }
}

// The next message, events included (a MIGRATION event's status is remembered).
json RawQmp::read_message(Clock::time_point deadline, std::string_view waiting_for) {
  for (;;) {
    if (const auto newline = buffer_.find('\n'); newline != std::string::npos) {
      const std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      json message = json::parse(line, nullptr, false);
      if (message.is_discarded() || !message.is_object()) {
        fail("baseline: QEMU sent invalid QMP: {}", line);
      }
      if (message.contains("event") && message["event"] == "MIGRATION") {
        migration_status_ = message["data"].value("status", "");
      }
      return message;
    }
    pollfd pfd{fd_, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, remaining_ms(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) fail("baseline: poll on QMP failed: {}", errno_text());
    if (ready == 0) fail("baseline: timed out waiting for {}", waiting_for);
    std::array<char, 64 * 1024> chunk{};
    const ssize_t n = ::recv(fd_, chunk.data(), chunk.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("baseline: QEMU closed QMP while waiting for {}", waiting_for);
    buffer_.append(chunk.data(), static_cast<std::size_t>(n));
  }
}

}  // namespace lifecycle
