#include "vz/unix_datagram.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include "runtime/posix.hpp"

namespace vmm::vz {

// The helpers, and the path limit, are the shared ones of src/runtime/posix.hpp.
using detail::errno_error;
using detail::quoted;
using detail::unix_socket_address;

Result<FileDescriptor> open_unix_datagram_socket(const UnixDatagramAttachmentPlan& plan) {
  auto local = unix_socket_address(plan.local);
  if (!local) return local.error();
  auto peer = unix_socket_address(plan.peer);
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
