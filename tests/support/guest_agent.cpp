#include "support/guest_agent.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <random>
#include <string>

namespace vmm::support {

namespace {

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(left.count());
}

}  // namespace

Result<AgentReply> GuestAgent::run(std::string_view command, std::chrono::milliseconds timeout) {
  const std::string what = "agent: `" + std::string(command) + "`";
  if (command.find('\n') != std::string_view::npos) {
    return make_error(Errc::invalid_config, what + ": a command is one line");
  }
  if (!channel_) return make_error(Errc::invalid_state, what + ": no channel");
  // A token the command's own output is very unlikely to contain at the start of a line.
  std::random_device device;
  const std::string token = "VMMAGENT" + std::to_string(++sequence_) + "x" +
                            std::to_string(device());
  const std::string request = token + " " + std::string(command) + "\n";
  const auto deadline = std::chrono::steady_clock::now() + timeout;

  std::size_t sent = 0;
  while (sent < request.size()) {
    pollfd p{channel_.get(), POLLOUT, 0};
    const int ready = ::poll(&p, 1, remaining_ms(deadline));
    if (ready == 0) return make_error(Errc::timeout, what + ": the guest does not take input");
    if (ready < 0 && errno != EINTR) return make_error(Errc::io, what + ": poll: " + std::strerror(errno));
    if (ready < 0) continue;
    const auto n = ::write(channel_.get(), request.data() + sent, request.size() - sent);
    if (n < 0 && errno != EINTR && errno != EAGAIN) {
      return make_error(Errc::io, what + ": write: " + std::strerror(errno));
    }
    if (n > 0) sent += static_cast<std::size_t>(n);
  }

  const std::string marker = "\n" + token + " ";
  std::string buffer = std::move(pending_);
  pending_.clear();
  for (;;) {
    const auto at = buffer.find(marker);
    if (at != std::string::npos) {
      const auto end = buffer.find('\n', at + marker.size());
      if (end != std::string::npos) {
        AgentReply reply;
        const std::string status = buffer.substr(at + marker.size(), end - at - marker.size());
        try {
          reply.status = std::stoi(status);
        } catch (const std::exception&) {
          return make_error(Errc::io, what + ": malformed status \"" + status + "\"");
        }
        reply.output = buffer.substr(0, at);
        pending_ = buffer.substr(end + 1);
        return reply;
      }
    }
    pollfd p{channel_.get(), POLLIN, 0};
    const int ready = ::poll(&p, 1, remaining_ms(deadline));
    if (ready == 0) {
      return make_error(Errc::timeout, what + ": no answer in time; got so far: \"" + buffer + "\"");
    }
    if (ready < 0) {
      if (errno == EINTR) continue;
      return make_error(Errc::io, what + ": poll: " + std::strerror(errno));
    }
    char chunk[4096];
    const auto n = ::read(channel_.get(), chunk, sizeof chunk);
    if (n == 0) return make_error(Errc::io, what + ": the channel closed; got: \"" + buffer + "\"");
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return make_error(Errc::io, what + ": read: " + std::strerror(errno));
    }
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
}

}  // namespace vmm::support
