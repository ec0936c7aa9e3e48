#include "nat_guest.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include "runtime/no_sigpipe.hpp"

namespace vmm::vz::test {

// A peer that went away is an error here, not a SIGPIPE that ends the test binary.
using detail::kSendFlags;
using detail::no_sigpipe;

GuestServer::GuestServer(std::string name, const std::string& address, std::uint16_t port)
    : name_(std::move(name)) {
  FileDescriptor fd(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in bound{};
  bound.sin_family = AF_INET;
  bound.sin_port = htons(port);
  socklen_t length = sizeof bound;
  // As a real server: a port whose connections linger in TIME_WAIT can be bound again (a
  // listener still on it cannot).
  const int one = 1;
  if (fd) ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (!fd || ::inet_pton(AF_INET, address.c_str(), &bound.sin_addr) != 1 ||
      ::bind(fd.get(), reinterpret_cast<sockaddr*>(&bound), sizeof bound) != 0 ||
      ::listen(fd.get(), 16) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &length) != 0) {
    return;
  }
  port_ = ntohs(bound.sin_port);
  listener_ = std::move(fd);
  thread_ = std::thread([this] { serve(); });
}

GuestServer::~GuestServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard lock(mutex_);
    for (const int fd : clients_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& thread : threads_) thread.join();
}

void GuestServer::serve() {
  while (!stop_) {
    pollfd p{listener_.get(), POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    const int client = ::accept(listener_.get(), nullptr, nullptr);
    if (client < 0) continue;
    ++accepted_;
    no_sigpipe(client);
    std::lock_guard lock(mutex_);
    clients_.push_back(client);
    threads_.emplace_back([client, greeting = name_ + ":"] {
      FileDescriptor owned(client);
      if (!write_all(client, greeting)) return;
      char buffer[8192];
      for (ssize_t n; (n = ::read(client, buffer, sizeof buffer)) > 0;) {
        if (!write_all(client, std::string(buffer, static_cast<std::size_t>(n)))) return;
      }
    });
  }
}

FileDescriptor connect_local(std::uint16_t port) {
  FileDescriptor fd(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
    return {};
  no_sigpipe(fd.get());
  return fd;
}

bool write_all(int fd, const std::string& data) {
  for (std::size_t done = 0; done < data.size();) {
    const auto n = ::send(fd, data.data() + done, data.size() - done, kSendFlags);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::string read_some(int fd, std::size_t size, std::chrono::milliseconds timeout) {
  std::string data;
  char buffer[8192];
  while (data.size() < size) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) break;
    const auto n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    data.append(buffer, static_cast<std::size_t>(n));
  }
  return data;
}

std::string read_to_end(int fd, std::chrono::milliseconds timeout) {
  return read_some(fd, std::string::npos, timeout);
}

std::string lease_block(const std::string& ip, const MacAddress& mac, const std::string& expires) {
  const auto& b = mac.bytes();
  const auto hw = fmt::format("{:x}:{:x}:{:x}:{:x}:{:x}:{:x}", b[0], b[1], b[2], b[3], b[4], b[5]);
  return fmt::format("{{\n\tname=guest\n\tip_address={}\n\thw_address=1,{}\n\tidentifier=1,{}\n"
                     "\tlease={}\n}}\n",
                     ip, hw, hw, expires);
}

}  // namespace vmm::vz::test
