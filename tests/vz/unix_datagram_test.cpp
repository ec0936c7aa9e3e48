// open_unix_datagram_socket() against a real peer socket.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "test_support.hpp"
#include "vz/unix_datagram.hpp"

namespace vmm::vz {
namespace {

FileDescriptor bound_peer(const std::filesystem::path& path) {
  FileDescriptor fd(::socket(AF_UNIX, SOCK_DGRAM, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
  return fd;
}

int buffer_size(int fd, int option) {
  int value = 0;
  socklen_t length = sizeof(value);
  EXPECT_EQ(::getsockopt(fd, SOL_SOCKET, option, &value, &length), 0);
  return value;
}

UnixDatagramAttachmentPlan plan_in(const test::Scratch& scratch) {
  return UnixDatagramAttachmentPlan{scratch.dir() / "net0.sock", scratch.dir() / "peer.sock",
                                    1500, unix_datagram_send_buffer,
                                    unix_datagram_receive_buffer};
}

TEST(VzUnixDatagram, ConnectsToThePeerBothWays) {
  test::Scratch scratch;
  const auto peer = bound_peer(scratch.dir() / "peer.sock");
  // A stale socket file from an earlier run must not stop bind().
  scratch.file("net0.sock", "stale");
  auto socket = open_unix_datagram_socket(plan_in(scratch));
  ASSERT_TRUE(socket) << socket.error().to_string();

  ASSERT_EQ(::send(socket->get(), "frame", 5, 0), 5);
  char buffer[16] = {};
  sockaddr_un from{};
  socklen_t from_length = sizeof(from);
  ASSERT_EQ(::recvfrom(peer.get(), buffer, sizeof(buffer), 0, reinterpret_cast<sockaddr*>(&from),
                       &from_length),
            5);
  EXPECT_EQ(std::string(buffer, 5), "frame");
  // The frame came from the bound local path, so the peer can answer it.
  EXPECT_EQ(std::string(from.sun_path), (scratch.dir() / "net0.sock").string());
  ASSERT_EQ(::sendto(peer.get(), "reply", 5, 0, reinterpret_cast<const sockaddr*>(&from),
                     from_length),
            5);
  ASSERT_EQ(::recv(socket->get(), buffer, sizeof(buffer), 0), 5);
  EXPECT_EQ(std::string(buffer, 5), "reply");
}

TEST(VzUnixDatagram, ReceiveBufferIsAtLeastTheSendBuffer) {
  test::Scratch scratch;
  const auto peer = bound_peer(scratch.dir() / "peer.sock");
  auto socket = open_unix_datagram_socket(plan_in(scratch));
  ASSERT_TRUE(socket);
  // Linux caps both at its rmem/wmem limits; macOS takes the sizes as given.
  EXPECT_GE(buffer_size(socket->get(), SO_RCVBUF), buffer_size(socket->get(), SO_SNDBUF));
}

TEST(VzUnixDatagram, MissingPeerIsNotFound) {
  test::Scratch scratch;
  auto socket = open_unix_datagram_socket(plan_in(scratch));
  ASSERT_FALSE(socket);
  EXPECT_EQ(socket.error().code(), Errc::not_found);
  EXPECT_NE(socket.error().message().find("peer.sock"), std::string::npos);
}

}  // namespace
}  // namespace vmm::vz
