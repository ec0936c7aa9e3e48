#include "vfkit/sockets.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/posix.hpp"

namespace vmm::vfkit::detail {
namespace {

FileDescriptor cloexec(int fd) {
  if (fd >= 0) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  return FileDescriptor(fd);
}

}  // namespace

Result<FileDescriptor> listen_unix(const std::filesystem::path& path, const std::string& what) {
  auto address = vmm::detail::unix_socket_address(path);
  if (!address) return Error(address.error().code(), what + ": " + address.error().message());
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return make_error(Errc::invalid_config, what + ": " + path.string() + " exists and is not a socket");
    ::unlink(path.c_str());
  }
  auto fd = cloexec(::socket(AF_UNIX, SOCK_STREAM, 0));
  if (fd.get() < 0 || ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&*address), sizeof(*address)) != 0 ||
      ::listen(fd.get(), 16) != 0)
    return vmm::detail::errno_error(Errc::io, what + ": listening on " + path.string());
  return fd;
}

Result<FileDescriptor> connect_unix(const std::filesystem::path& path) {
  auto address = vmm::detail::unix_socket_address(path);
  if (!address) return std::move(address).error();
  auto fd = cloexec(::socket(AF_UNIX, SOCK_STREAM, 0));
  if (fd.get() < 0 || ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&*address), sizeof(*address)) != 0)
    return vmm::detail::errno_error(Errc::io, "connecting to " + path.string());
  return fd;
}

FileDescriptor accept_connection(int listener) { return cloexec(::accept(listener, nullptr, nullptr)); }

Result<std::array<FileDescriptor, 2>> make_pipe(const std::string& what) {
  int fds[2];
  if (::pipe(fds) != 0) return vmm::detail::errno_error(Errc::io, what);
  return std::array<FileDescriptor, 2>{cloexec(fds[0]), cloexec(fds[1])};
}

}  // namespace vmm::vfkit::detail
