// The TCP relay (src/runtime/tcp_relay.hpp) against a local echo server on loopback: bytes both
// ways, half-closes passed on, a payload far larger than the relay's buffers, a target that
// cannot be reached, and a shutdown with connections open.
#include "runtime/tcp_relay.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "support/loopback.hpp"

namespace vmm::detail {
namespace {

using support::listen_loopback;

FileDescriptor connect_loopback(std::uint16_t port) {
  FileDescriptor fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
    return {};
  return fd;
}

// Reads until end of file (or 60 s without data).
std::string read_to_end(int fd) {
  std::string data;
  char buffer[8192];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 60'000) <= 0) break;
    const auto n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    data.append(buffer, static_cast<std::size_t>(n));
  }
  return data;
}

// Echoes each client's bytes back, prefixed with "echo:", and closes after the client's end.
class EchoServer {
 public:
  EchoServer() : listener_(listen_loopback(port_)), thread_([this] { serve(); }) {}
  ~EchoServer() {
    stop_ = true;
    thread_.join();
  }
  std::uint16_t port() const { return port_; }
  int accepted() const { return accepted_; }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{listener_.get(), POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      FileDescriptor client(::accept(listener_.get(), nullptr, nullptr));
      if (!client) continue;
      ++accepted_;
      std::thread([client = std::move(client)]() mutable {
        const std::string prefix = "echo:";
        if (::write(client.get(), prefix.data(), prefix.size()) < 0) return;
        char buffer[8192];
        for (ssize_t n; (n = ::read(client.get(), buffer, sizeof buffer)) > 0;) {
          for (ssize_t done = 0; done < n;) {
            const auto w = ::write(client.get(), buffer + done, static_cast<std::size_t>(n - done));
            if (w <= 0) return;
            done += w;
          }
        }
      }).detach();
    }
  }
  std::uint16_t port_ = 0;
  FileDescriptor listener_;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

TEST(TcpRelay, CarriesBytesBothWaysAndPassesTheClientsEndOn) {
  EchoServer server;
  auto relay = TcpRelay::start({"127.0.0.1", 0}, [&]() -> Result<TcpEndpoint> {
    return TcpEndpoint{"127.0.0.1", server.port()};
  });
  ASSERT_TRUE(relay) << relay.error().to_string();
  ASSERT_NE((*relay)->port(), 0);
  ASSERT_NE((*relay)->port(), server.port());
  for (int round = 0; round < 2; ++round) {  // one relay, many connections
    auto client = connect_loopback((*relay)->port());
    ASSERT_TRUE(client.valid());
    const std::string hello = "hello through the relay";
    ASSERT_EQ(::write(client.get(), hello.data(), hello.size()), static_cast<ssize_t>(hello.size()));
    ::shutdown(client.get(), SHUT_WR);  // the echo server ends only after it sees this end
    EXPECT_EQ(read_to_end(client.get()), "echo:" + hello);
  }
  EXPECT_EQ(server.accepted(), 2);
}

TEST(TcpRelay, APayloadMuchLargerThanItsBuffersArrivesWhole) {
  EchoServer server;
  auto relay = TcpRelay::start({"127.0.0.1", 0}, [&]() -> Result<TcpEndpoint> {
    return TcpEndpoint{"127.0.0.1", server.port()};
  });
  ASSERT_TRUE(relay);
  auto client = connect_loopback((*relay)->port());
  ASSERT_TRUE(client.valid());
  std::string payload(4 * 1024 * 1024, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + i % 26);
  std::string received;
  // Write and read at once: the echo would otherwise fill every buffer and stall the writer.
  std::thread reader([&] { received = read_to_end(client.get()); });
  std::size_t written = 0;
  while (written < payload.size()) {
    const auto n = ::write(client.get(), payload.data() + written, payload.size() - written);
    if (n <= 0) break;
    written += static_cast<std::size_t>(n);
  }
  ::shutdown(client.get(), SHUT_WR);
  reader.join();
  EXPECT_EQ(written, payload.size());
  ASSERT_EQ(received.size(), payload.size() + 5);
  EXPECT_TRUE(received == "echo:" + payload) << "the relayed bytes differ";
}

TEST(TcpRelay, AClientIsClosedWhenItsTargetIsUnknownOrRefuses) {
  std::uint16_t closed_port = 0;
  { auto gone = listen_loopback(closed_port); }  // a port nobody listens on now
  int lookups = 0;
  auto relay = TcpRelay::start({"127.0.0.1", 0}, [&]() -> Result<TcpEndpoint> {
    if (++lookups == 1) return make_error(Errc::not_found, "no lease for the guest yet");
    return TcpEndpoint{"127.0.0.1", closed_port};
  });
  ASSERT_TRUE(relay);
  for (int i = 0; i < 2; ++i) {
    auto client = connect_loopback((*relay)->port());
    ASSERT_TRUE(client.valid());
    EXPECT_EQ(read_to_end(client.get()), "");  // closed, not left hanging
  }
  EXPECT_EQ(lookups, 2);
}

TEST(TcpRelay, DestructionClosesOpenConnectionsPromptly) {
  EchoServer server;
  auto relay = TcpRelay::start({"127.0.0.1", 0}, [&]() -> Result<TcpEndpoint> {
    return TcpEndpoint{"127.0.0.1", server.port()};
  });
  ASSERT_TRUE(relay);
  auto client = connect_loopback((*relay)->port());
  ASSERT_TRUE(client.valid());
  char prefix[5];
  ASSERT_EQ(::read(client.get(), prefix, sizeof prefix), 5);  // relayed and open
  const auto port = (*relay)->port();
  const auto before = std::chrono::steady_clock::now();
  relay->reset();
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(5));
  EXPECT_EQ(read_to_end(client.get()), "");  // the client sees its connection end
  EXPECT_FALSE(connect_loopback(port).valid()) << "the relay still listens after destruction";
}

TEST(TcpRelay, ListenErrorsNameTheAddress) {
  auto bad = TcpRelay::start({"localhost", 0}, {});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), Errc::invalid_config);
  EXPECT_NE(bad.error().message().find("localhost"), std::string::npos);
  std::uint16_t taken = 0;
  auto holder = listen_loopback(taken);
  ASSERT_TRUE(holder.valid());
  auto busy = TcpRelay::start({"127.0.0.1", taken}, {});
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code(), Errc::io);
  EXPECT_NE(busy.error().message().find("127.0.0.1:" + std::to_string(taken)), std::string::npos)
      << busy.error().message();
}

}  // namespace
}  // namespace vmm::detail
