// vmm internal: the small POSIX helpers every layer and backend shares, decided once here:
// errno errors, write_all, quoting a path in a message, unix socket addresses and their length
// limit, socket pairs and listening unix sockets, private unique directories, and "join unless on that very thread".
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <array>
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>

#include "vmm/error.hpp"
#include "vmm/file_descriptor.hpp"

namespace vmm::detail {

// "<what>: <strerror(error)>" with `code`; `error` defaults to the current errno.
Error errno_error(Errc code, std::string_view what, int error);
Error errno_error(Errc code, std::string_view what);

// Writes all of `bytes`, retrying after EINTR and short writes; false on any other failure.
bool write_all(int fd, std::string_view bytes);

// A path as messages quote it: "\"/x/y\"".
std::string quoted(const std::filesystem::path& path);

// The longest unix socket path a caller may give in a config, on every supported host:
// sockaddr_un::sun_path is 104 bytes on macOS (108 on Linux), one of them for the NUL. The config
// rule (src/config/validation.cpp) and the VZ plan use this one; paths the library makes itself
// on this host may use host_max_unix_socket_path.
inline constexpr std::size_t max_unix_socket_path = 103;
inline constexpr std::size_t host_max_unix_socket_path = sizeof(sockaddr_un::sun_path) - 1;

// The address of `path`, or invalid_config naming the path when it is empty or longer than
// host_max_unix_socket_path.
Result<sockaddr_un> unix_socket_address(const std::filesystem::path& path);

// A new directory "<prefix>XXXXXX" (mkdtemp: unique name, mode 0700). `prefix` is a path, e.g.
// "/tmp/vmm-" or "<bundle>.tmp-". io errors say `what` was being created and where.
Result<std::filesystem::path> make_unique_directory(const std::filesystem::path& prefix,
                                                    std::string_view what);

// A connected pair of unix stream sockets (close-on-exec), e.g. for a child's end and ours.
Result<std::array<FileDescriptor, 2>> stream_socketpair();

// A listening unix socket at `path` (a stale file there is replaced).
Result<FileDescriptor> listen_unix(const std::filesystem::path& path);

// Joins `thread`, or detaches it when called on that thread itself (an object destroyed from
// inside one of its own callbacks): the thread then finishes on its own right after.
void join_or_detach(std::thread& thread) noexcept;

}  // namespace vmm::detail
