// vmm internal: POSIX helpers shared by every layer and backend.
#include "runtime/posix.hpp"

#include <stdlib.h>  // mkdtemp
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace vmm::detail {

Error errno_error(Errc code, std::string_view what, int error) {
  std::string message(what);
  message += ": ";
  message += std::strerror(error);
  return Error(code, std::move(message));
}

Error errno_error(Errc code, std::string_view what) { return errno_error(code, what, errno); }

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::string quoted(const std::filesystem::path& path) { return "\"" + path.string() + "\""; }

Result<sockaddr_un> unix_socket_address(const std::filesystem::path& path) {
  const std::string& text = path.native();
  if (text.empty()) return make_error(Errc::invalid_config, "unix socket path is empty");
  if (text.size() > host_max_unix_socket_path) {
    return make_error(Errc::invalid_config,
                      "unix socket path " + quoted(path) + " is " + std::to_string(text.size()) +
                          " bytes, longer than a unix socket address allows (" +
                          std::to_string(host_max_unix_socket_path) + ")");
  }
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, text.c_str(), text.size() + 1);
  return address;
}

Result<std::filesystem::path> make_unique_directory(const std::filesystem::path& prefix,
                                                    std::string_view what) {
  const std::string pattern = prefix.string() + "XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) {
    return errno_error(Errc::io, "cannot create " + std::string(what) + " in " +
                                     prefix.parent_path().string());
  }
  return std::filesystem::path(buffer.data());
}

Result<std::array<FileDescriptor, 2>> stream_socketpair() {
  std::array<int, 2> fds{};
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds.data()) != 0) {
    return errno_error(Errc::io, "socketpair");
  }
  return std::array<FileDescriptor, 2>{FileDescriptor(fds[0]), FileDescriptor(fds[1])};
}

Result<FileDescriptor> listen_unix(const std::filesystem::path& path) {
  auto address_or = unix_socket_address(path);
  if (!address_or) return std::move(address_or).error();
  const sockaddr_un address = *address_or;
  const auto text = path.string();
  FileDescriptor fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return errno_error(Errc::io, "socket");
  ::unlink(text.c_str());
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(fd.get(), 4) != 0) {
    return errno_error(Errc::io, "cannot listen on " + text);
  }
  return fd;
}

void join_or_detach(std::thread& thread) noexcept {
  if (!thread.joinable()) return;
  if (thread.get_id() == std::this_thread::get_id()) {
    thread.detach();
  } else {
    thread.join();
  }
}

}  // namespace vmm::detail
