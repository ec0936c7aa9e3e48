#include "vz/unix_datagram.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

namespace vmm::vz {
namespace {

std::string quoted(const std::filesystem::path& path) { return "\"" + path.string() + "\""; }

Error errno_error(Errc code, const std::string& what) {
  return Error(code, what + ": " + std::strerror(errno));
}

Result<sockaddr_un> address_of(const std::filesystem::path& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string& text = path.native();
  if (text.empty() || text.size() >= sizeof(address.sun_path)) {
    return make_error(Errc::invalid_config,
                      "unix socket path " + quoted(path) + " is empty or too long");
  }
  std::memcpy(address.sun_path, text.c_str(), text.size() + 1);
  return address;
}

}  // namespace

Result<FileDescriptor> open_unix_datagram_socket(const UnixDatagramAttachmentPlan& plan) {
  auto local = address_of(plan.local);
  if (!local) return local.error();
  auto peer = address_of(plan.peer);
  if (!peer) return peer.error();

  FileDescriptor socket(::socket(AF_UNIX, SOCK_DGRAM, 0));
  if (!socket) return errno_error(Errc::io, "unix datagram socket");
  if (::fcntl(socket.get(), F_SETFD, FD_CLOEXEC) != 0) {
    return errno_error(Errc::io, "unix datagram socket");
  }
  // A socket file left by an earlier VM in the same work directory would make bind() fail.
  std::error_code ignored;
  std::filesystem::remove(plan.local, ignored);
  if (::bind(socket.get(), reinterpret_cast<const sockaddr*>(&*local), sizeof(*local)) != 0) {
    return errno_error(Errc::io, "binding unix datagram socket " + quoted(plan.local));
  }
  if (::connect(socket.get(), reinterpret_cast<const sockaddr*>(&*peer), sizeof(*peer)) != 0) {
    const Errc code = (errno == ENOENT || errno == ECONNREFUSED) ? Errc::not_found : Errc::io;
    return errno_error(code, "connecting to the network peer " + quoted(plan.peer));
  }
  // VZ drops frames unless the receive buffer is well above the send buffer.
  if (::setsockopt(socket.get(), SOL_SOCKET, SO_SNDBUF, &plan.send_buffer,
                   sizeof(plan.send_buffer)) != 0 ||
      ::setsockopt(socket.get(), SOL_SOCKET, SO_RCVBUF, &plan.receive_buffer,
                   sizeof(plan.receive_buffer)) != 0) {
    return errno_error(Errc::io, "sizing the buffers of unix datagram socket " + quoted(plan.local));
  }
  return socket;
}

}  // namespace vmm::vz
