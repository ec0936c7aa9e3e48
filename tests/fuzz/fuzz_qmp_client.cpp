// QmpClient (reading, dispatcher, handshake) over a socketpair whose other end is a fake
// QEMU writing the fuzz input as its QMP stream, then closing.
// The fake peer writes the stream line by line; before a reply whose id is the next command the
// client will send, it waits (briefly, within a small total budget) for that command, so that
// replies meet a waiting caller and the handshake and command paths are reached
// deterministically rather than by thread timing.
// Properties: nothing crashes, leaks or hangs; the close handler runs exactly once per client;
// connect() succeeds only if the stream held a greeting; errors carry the documented codes.
// QmpClient is part of the QEMU backend, built on Linux only (tests/fuzz/CMakeLists.txt).
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "fuzz_check.hpp"
#include "qemu/qmp_client.hpp"
#include "qemu/qmp_message.hpp"

namespace {

using namespace std::chrono_literals;
using vmm::qemu::QmpMessage;

std::string_view strip_line(std::string_view segment) {
  if (!segment.empty() && segment.back() == '\n') segment.remove_suffix(1);
  if (!segment.empty() && segment.back() == '\r') segment.remove_suffix(1);
  return segment;
}

class FakeQemu {
 public:
  FakeQemu(int fd, std::string_view stream) : fd_(fd), stream_(stream) {}

  void run() {
    bool greeted = false;
    auto budget = 300ms;
    std::string_view rest = stream_;
    while (!rest.empty()) {
      const auto newline = rest.find('\n');
      const auto segment =
          rest.substr(0, newline == std::string_view::npos ? rest.size() : newline + 1);
      rest.remove_prefix(segment.size());
      const auto message = vmm::qemu::parse_qmp_message(strip_line(segment));
      if (message && message->kind == QmpMessage::Kind::greeting) greeted = true;
      const bool reply =
          message && message->id &&
          (message->kind == QmpMessage::Kind::success || message->kind == QmpMessage::Kind::error);
      if (greeted && reply && *message->id == commands_ + 1 && budget > 0ms)
        budget -= wait_for_command(budget);
      if (!write_all(segment)) break;
    }
    ::shutdown(fd_, SHUT_WR);
  }

 private:
  // Reads what the client sends until one more command line arrives, EOF, or `limit` passes;
  // returns the time spent.
  std::chrono::milliseconds wait_for_command(std::chrono::milliseconds limit) {
    const auto start = std::chrono::steady_clock::now();
    const auto target = commands_ + 1;
    while (commands_ < target && !peer_closed_) {
      const auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - start);
      if (spent >= limit) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>((limit - spent).count())) <= 0) break;
      char buffer[4096];
      const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) {
        peer_closed_ = true;
        break;
      }
      for (ssize_t i = 0; i < n; ++i) commands_ += buffer[i] == '\n' ? 1 : 0;
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 start);
  }

  bool write_all(std::string_view bytes) {
    while (!bytes.empty()) {
      const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  int fd_;
  std::string_view stream_;
  std::uint64_t commands_ = 0;
  bool peer_closed_ = false;
};

bool has_greeting(std::string_view stream) {
  while (!stream.empty()) {
    const auto newline = stream.find('\n');
    if (newline == std::string_view::npos) return false;  // an unterminated line is never read
    const auto message = vmm::qemu::parse_qmp_message(strip_line(stream.substr(0, newline)));
    if (message && message->kind == QmpMessage::Kind::greeting) return true;
    stream.remove_prefix(newline + 1);
  }
  return false;
}

bool expected_code(vmm::Errc code) {
  return code == vmm::Errc::backend || code == vmm::Errc::timeout || code == vmm::Errc::cancelled ||
         code == vmm::Errc::io;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view stream(reinterpret_cast<const char*>(data), size);
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return 0;
  FakeQemu qemu(fds[1], stream);
  std::thread peer([&] { qemu.run(); });

  std::atomic<int> closes{0};
  std::atomic<int> events{0};
  {
    auto client = vmm::qemu::QmpClient::connect(
        vmm::FileDescriptor(fds[0]),
        [&](const std::string& event, const nlohmann::json&) {
          FUZZ_CHECK(closes.load() == 0, "event after close: " + event);
          ++events;
        },
        [&](const vmm::Error& reason) {
          FUZZ_CHECK(expected_code(reason.code()), reason.to_string());
          ++closes;
        },
        1000ms, 64 * 1024);
    if (client) {
      FUZZ_CHECK(has_greeting(stream), "connected without a greeting");
      for (int i = 0; i < 3; ++i) {
        const auto reply = (*client)->execute("query-status", nlohmann::json::object(), 200ms);
        if (!reply) {
          FUZZ_CHECK(expected_code(reply.error().code()), reply.error().to_string());
          if ((*client)->close_reason()) break;
        }
      }
    } else {
      FUZZ_CHECK(expected_code(client.error().code()), client.error().to_string());
    }
  }  // the client is gone: it has reported the close (the stream's end, or cancelled)
  FUZZ_CHECK(closes.load() == 1, "close handler ran " + std::to_string(closes.load()) + " times");
  peer.join();
  ::close(fds[1]);
  return 0;
}

