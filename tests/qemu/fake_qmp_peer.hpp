// Tests of the QMP client: a fake QEMU on the other end of a socketpair, driven by the test.
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "vmm/file_descriptor.hpp"

namespace vmm::qemu::test {

using nlohmann::json;

class FakeQemu {
 public:
  explicit FakeQemu(int fd) : fd_(fd) {}
  ~FakeQemu() { close(); }

  void send(std::string_view text) {
    std::string line(text);
    line += "\r\n";
    ASSERT_EQ(::send(fd_, line.data(), line.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(line.size()));
  }
  void greet() { send(R"({"QMP": {"version": {"qemu": {"major": 7}}, "capabilities": ["oob"]}})"); }

  // Reads one command line; a descriptor passed with it lands in *received_fd.
  json read_command(int* received_fd = nullptr) {
    std::string line;
    for (;;) {
      const auto newline = pending_.find('\n');
      if (newline != std::string::npos) {
        line = pending_.substr(0, newline);
        pending_.erase(0, newline + 1);
        return json::parse(line);
      }
      std::array<char, 4096> buffer{};
      iovec iov{buffer.data(), buffer.size()};
      alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int))> control{};
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control.data();
      msg.msg_controllen = control.size();
      const ssize_t n = ::recvmsg(fd_, &msg, 0);
      if (n <= 0) return json();
      if (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
          cmsg != nullptr && cmsg->cmsg_type == SCM_RIGHTS && received_fd != nullptr) {
        std::memcpy(received_fd, CMSG_DATA(cmsg), sizeof(int));
      }
      pending_.append(buffer.data(), static_cast<std::size_t>(n));
    }
  }
  void reply(const json& command, const json& value = json::object()) {
    send(json{{"return", value}, {"id", command["id"]}}.dump());
  }
  // Greets and answers qmp_capabilities.
  void handshake() {
    greet();
    const auto command = read_command();
    ASSERT_EQ(command["execute"], "qmp_capabilities");
    reply(command);
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
  std::string pending_;
};

struct Connected {
  std::unique_ptr<FakeQemu> server;
  FileDescriptor client_end;
};

inline Connected socket_pair() {
  std::array<int, 2> fds{};
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds.data()), 0);
  return {std::make_unique<FakeQemu>(fds[1]), FileDescriptor(fds[0])};
}

}  // namespace vmm::qemu::test
