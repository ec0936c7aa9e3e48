// vmm internal: the TCP relay (tcp_relay.hpp).
#include "runtime/tcp_relay.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <iterator>
#include <list>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "runtime/no_sigpipe.hpp"
#include "runtime/posix.hpp"

namespace vmm::detail {
namespace {

bool set_nonblocking_cloexec(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 &&
         ::fcntl(fd, F_SETFD, FD_CLOEXEC) == 0;
}

std::optional<sockaddr_in> ipv4(const TcpEndpoint& endpoint) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(endpoint.port);
  if (::inet_pton(AF_INET, endpoint.address.c_str(), &address.sin_addr) != 1) return std::nullopt;
  return address;
}

// One direction of a connection: bytes read from one side, not yet written to the other.
struct Direction {
  std::string pending;
  bool source_ended = false;  // read 0: the source half-closed
  bool shut = false;          // the end was passed on (shutdown(SHUT_WR) on the destination)
};

struct Connection {
  FileDescriptor client;
  FileDescriptor upstream;
  bool connecting = true;
  Direction up;    // client -> upstream
  Direction down;  // upstream -> client
  bool failed = false;
  bool done() const { return failed || (up.shut && down.shut); }
};

// Reads what fits into `direction`; false on an error.
bool fill(int from, Direction& direction) {
  char buffer[16 * 1024];
  while (!direction.source_ended && direction.pending.size() < TcpRelay::buffer_bytes) {
    const auto room = std::min(sizeof buffer, TcpRelay::buffer_bytes - direction.pending.size());
    const auto n = ::read(from, buffer, room);
    if (n > 0) {
      direction.pending.append(buffer, static_cast<std::size_t>(n));
    } else if (n == 0) {
      direction.source_ended = true;
    } else {
      return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    }
  }
  return true;
}

// Writes what the destination takes; passes the source's end on once everything is written.
bool drain(int to, Direction& direction) {
  while (!direction.pending.empty()) {
    const auto n = ::send(to, direction.pending.data(), direction.pending.size(), kSendFlags);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    direction.pending.erase(0, static_cast<std::size_t>(n));
  }
  if (direction.source_ended && !direction.shut) {
    ::shutdown(to, SHUT_WR);
    direction.shut = true;
  }
  return true;
}

}  // namespace

struct TcpRelay::Loop {
  FileDescriptor listener;
  int stop = -1;
  TargetLookup target;
  std::list<Connection> connections;

  void accept_clients() {
    for (;;) {
      FileDescriptor client(::accept(listener.get(), nullptr, nullptr));
      if (!client) return;  // EAGAIN, or a client that went away before we took it
      if (!set_nonblocking_cloexec(client.get())) continue;
      no_sigpipe(client.get());
      if (!target) continue;
      auto endpoint = target();
      if (!endpoint) continue;  // nowhere to go: the client sees its connection closed
      const auto address = ipv4(*endpoint);
      if (!address) continue;
      FileDescriptor upstream(::socket(AF_INET, SOCK_STREAM, 0));
      if (!upstream || !set_nonblocking_cloexec(upstream.get())) continue;
      no_sigpipe(upstream.get());
      const int rc = ::connect(upstream.get(), reinterpret_cast<const sockaddr*>(&*address),
                               sizeof *address);
      if (rc != 0 && errno != EINPROGRESS) continue;
      Connection connection;
      connection.client = std::move(client);
      connection.upstream = std::move(upstream);
      connection.connecting = rc != 0;
      connections.push_back(std::move(connection));
    }
  }

  // Nothing is read from the client until its upstream is connected: a readable client would
  // otherwise wake the loop over and over.
  static short client_events(const Connection& c) {
    if (c.connecting) return 0;
    return events_for(c.up, c.down);
  }

  static short upstream_events(const Connection& c) {
    if (c.connecting) return POLLOUT;
    return events_for(c.down, c.up);
  }

  // Read while the source has not ended and there is room; write while bytes are waiting.
  static short events_for(const Direction& from_here, const Direction& to_here) {
    int events = 0;
    if (!from_here.source_ended && from_here.pending.size() < buffer_bytes) events |= POLLIN;
    if (!to_here.pending.empty()) events |= POLLOUT;
    return static_cast<short>(events);
  }

  static void step(Connection& c, short client_revents, short upstream_revents) {
    if (c.connecting) {
      if (upstream_revents == 0) return;
      int error = 0;
      socklen_t length = sizeof error;
      if (::getsockopt(c.upstream.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0) {
        c.failed = true;  // the target refused or is unreachable: drop the client
        return;
      }
      c.connecting = false;
    }
    // Readiness is only a hint: fill and drain stop at EAGAIN, so both are always safe to try.
    const bool ok = fill(c.client.get(), c.up) && fill(c.upstream.get(), c.down) &&
                    drain(c.upstream.get(), c.up) && drain(c.client.get(), c.down);
    // A socket error (e.g. a reset) ends the connection both ways.
    const bool errored = ((client_revents | upstream_revents) & POLLERR) != 0;
    c.failed = !ok || errored;
  }

  void run() {
    std::vector<pollfd> fds;
    for (;;) {
      fds.clear();
      fds.push_back({stop, POLLIN, 0});
      fds.push_back({listener.get(), POLLIN, 0});
      // A socket with nothing asked of it is left out (a negative fd), so that a hang-up on it
      // cannot wake the loop while the other side is still draining.
      const auto entry = [](int fd, short events) {
        return pollfd{events != 0 ? fd : -1, events, 0};
      };
      for (const auto& c : connections) {
        fds.push_back(entry(c.client.get(), client_events(c)));
        fds.push_back(entry(c.upstream.get(), upstream_events(c)));
      }
      if (::poll(fds.data(), static_cast<nfds_t>(fds.size()), -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[0].revents != 0) return;
      std::size_t i = 2;
      for (auto it = connections.begin(); it != connections.end(); i += 2) {
        const short client_revents = fds[i].revents;
        const short upstream_revents = fds[i + 1].revents;
        if (client_revents != 0 || upstream_revents != 0) step(*it, client_revents, upstream_revents);
        it = it->done() ? connections.erase(it) : std::next(it);
      }
      if (fds[1].revents != 0) accept_clients();
    }
  }
};

TcpRelay::TcpRelay(FileDescriptor listener, std::uint16_t port, TargetLookup target,
                   FileDescriptor stop_read, FileDescriptor stop_write)
    : port_(port), stop_read_(std::move(stop_read)), stop_write_(std::move(stop_write)) {
  thread_ = std::thread([loop = Loop{std::move(listener), stop_read_.get(), std::move(target),
                                     {}}]() mutable { loop.run(); });
}

Result<std::unique_ptr<TcpRelay>> TcpRelay::start(const TcpEndpoint& listen, TargetLookup target) {
  const auto address = ipv4(listen);
  if (!address) {
    return make_error(Errc::invalid_config,
                      fmt::format("relay: \"{}\" is not an IPv4 address", listen.address));
  }
  FileDescriptor listener(::socket(AF_INET, SOCK_STREAM, 0));
  if (!listener || !set_nonblocking_cloexec(listener.get()))
    return errno_error(Errc::io, "relay: cannot make a socket");
  const int one = 1;
  ::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const auto where = fmt::format("{}:{}", listen.address, listen.port);
  if (::bind(listener.get(), reinterpret_cast<const sockaddr*>(&*address), sizeof *address) != 0)
    return errno_error(Errc::io, "relay: cannot bind " + where);
  if (::listen(listener.get(), SOMAXCONN) != 0)
    return errno_error(Errc::io, "relay: cannot listen on " + where);
  sockaddr_in bound{};
  socklen_t length = sizeof bound;
  if (::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&bound), &length) != 0)
    return errno_error(Errc::io, "relay: cannot read the port of " + where);
  int pipe_fds[2] = {-1, -1};
  if (::pipe(pipe_fds) != 0) return errno_error(Errc::io, "relay: cannot make its stop pipe");
  FileDescriptor stop_read(pipe_fds[0]);
  FileDescriptor stop_write(pipe_fds[1]);
  ::fcntl(pipe_fds[0], F_SETFD, FD_CLOEXEC);
  ::fcntl(pipe_fds[1], F_SETFD, FD_CLOEXEC);
  return std::unique_ptr<TcpRelay>(new TcpRelay(std::move(listener), ntohs(bound.sin_port),
                                                std::move(target), std::move(stop_read),
                                                std::move(stop_write)));
}

TcpRelay::~TcpRelay() {
  if (stop_write_) {
    const char byte = 0;
    [[maybe_unused]] const auto n = ::write(stop_write_.get(), &byte, 1);
  }
  if (thread_.joinable()) thread_.join();
}

}  // namespace vmm::detail
