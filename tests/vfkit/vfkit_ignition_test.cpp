// vfkit's --ignition (vmm/vfkit_ignition.hpp) with a fake guest vsock: a "guest" connection on
// port 1024 is a socket pair end, over which the test sends Ignition's HTTP GET. (A real guest
// needs /dev/vhost-vsock, which this machine lacks.)
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>

#include "support/temp_dir.hpp"
#include "vmm/vfkit_ignition.hpp"

namespace vmm_test {
namespace {

using vmm::FileDescriptor;
using namespace vmm::vfkit;

// The guest side of vsock: listen() keeps the callback, so the test can connect "from the guest".
struct ListeningGuest {
  std::mutex mutex;
  std::uint32_t port = 0;
  std::function<void(FileDescriptor)> on_connection;
  bool refuse = false;

  GuestVsock vsock() {
    GuestVsock guest;
    guest.connect = [](std::uint32_t, std::function<void(vmm::Result<FileDescriptor>)> done) {
      done(vmm::make_error(vmm::Errc::unsupported, "the ignition server never connects"));
    };
    guest.listen = [this](std::uint32_t listened, std::function<void(FileDescriptor)> callback)
        -> vmm::Result<vmm::Subscription> {
      std::lock_guard lock(mutex);
      if (refuse) return vmm::make_error(vmm::Errc::invalid_config, "vsock: no vsock device");
      port = listened;
      on_connection = std::move(callback);
      return vmm::Subscription([this] {
        std::lock_guard inner(mutex);
        on_connection = nullptr;
      });
    };
    return guest;
  }
};

// Sends `request` over a new guest connection and returns everything the host answers.
std::string ask(ListeningGuest& guest, const std::string& request) {
  int pair[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  FileDescriptor ours(pair[1]);
  {
    std::lock_guard lock(guest.mutex);
    EXPECT_TRUE(guest.on_connection);
    if (!guest.on_connection) return {};
    guest.on_connection(FileDescriptor(pair[0]));
  }
  EXPECT_EQ(::write(ours.get(), request.data(), request.size()),
            static_cast<ssize_t>(request.size()));
  std::string answer;
  char buffer[4096];
  for (;;) {
    pollfd pfd{ours.get(), POLLIN, 0};
    if (::poll(&pfd, 1, 10000) <= 0) break;  // bounded: a hang fails the expectations below
    const ssize_t n = ::read(ours.get(), buffer, sizeof buffer);
    if (n <= 0) break;
    answer.append(buffer, static_cast<std::size_t>(n));
  }
  return answer;
}

TEST(VfkitIgnition, ServesTheFileOnGuestPort1024ToEveryGet) {
  vmm::support::TempDir tmp;
  const auto file = tmp.path() / "config.ign";
  const std::string config = R"({"ignition":{"version":"3.4.0"},"passwd":{}})";
  std::ofstream(file) << config;
  ListeningGuest guest;
  auto server = IgnitionServer::start(file, guest.vsock());
  ASSERT_TRUE(server) << server.error().to_string();
  EXPECT_EQ(guest.port, 1024U);
  EXPECT_TRUE(std::filesystem::exists((*server)->socket_path()));

  for (const char* path : {"/", "/config.ign"}) {
    const auto answer = ask(guest, std::string("GET ") + path +
                                            " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0U) << answer;
    EXPECT_NE(answer.find("Content-Type: application/json"), std::string::npos) << answer;
    EXPECT_EQ(answer.substr(answer.size() - std::min(answer.size(), config.size())), config)
        << answer;
  }
  // The file is read at start: a later change is not served.
  std::ofstream(file) << "{}";
  const auto again = ask(guest, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(again.find(config), std::string::npos) << again;

  const auto socket = (*server)->socket_path();
  server->reset();
  EXPECT_FALSE(guest.on_connection) << "guest port 1024 is still listened on";
  EXPECT_FALSE(std::filesystem::exists(socket.parent_path())) << "its socket directory is left";
}

TEST(VfkitIgnition, AFileThatCannotBeReadAndAGuestWithoutVsockAreErrorsNamingIgnition) {
  vmm::support::TempDir tmp;
  ListeningGuest guest;
  auto missing = IgnitionServer::start(tmp.path() / "none.ign", guest.vsock());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), vmm::Errc::not_found);
  EXPECT_NE(missing.error().message().find("--ignition"), std::string::npos);
  auto directory = IgnitionServer::start(tmp.path(), guest.vsock());
  ASSERT_FALSE(directory);
  EXPECT_NE(directory.error().message().find("--ignition"), std::string::npos);

  const auto file = tmp.path() / "config.ign";
  std::ofstream(file) << "{}";
  guest.refuse = true;
  auto refused = IgnitionServer::start(file, guest.vsock());
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("--ignition"), std::string::npos);
  EXPECT_NE(refused.error().message().find("1024"), std::string::npos);
  EXPECT_NE(refused.error().message().find("no vsock device"), std::string::npos);
}

}  // namespace
}  // namespace vmm_test
