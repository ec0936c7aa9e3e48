#include "runtime/spin_poll.hpp"

#include <sched.h>

#include <cerrno>

namespace vmm::detail {

bool poll_spinning(std::span<pollfd> fds, std::chrono::steady_clock::time_point until) {
  for (;;) {
    const int ready = ::poll(fds.data(), static_cast<nfds_t>(fds.size()), 0);
    if (ready > 0) return true;
    if (ready < 0 && errno != EINTR) return false;  // the caller's blocking poll reports it
    if (std::chrono::steady_clock::now() >= until) {
      for (auto& fd : fds) fd.revents = 0;
      return false;
    }
    ::sched_yield();
  }
}

}  // namespace vmm::detail
