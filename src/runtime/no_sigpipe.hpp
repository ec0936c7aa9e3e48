// vmm internal: writing to a socket whose peer has gone must be an EPIPE error, not a SIGPIPE
// that ends the process: MSG_NOSIGNAL on each send on Linux, SO_NOSIGPIPE on the socket on macOS
// (which has no MSG_NOSIGNAL). Use both: send(..., kSendFlags) on sockets set up by no_sigpipe().
#pragma once

#include <sys/socket.h>

namespace vmm::detail {

#if defined(MSG_NOSIGNAL)
inline constexpr int kSendFlags = MSG_NOSIGNAL;
inline void no_sigpipe(int) {}
#else
inline constexpr int kSendFlags = 0;
inline void no_sigpipe(int fd) {
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
}
#endif

}  // namespace vmm::detail
