#include "qemu/console_pump.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstddef>

#include "runtime/console_line_splitter.hpp"

namespace vmm::qemu {
namespace {

// `socket`: send without SIGPIPE (a console whose QEMU end is gone must not kill the process).
bool write_all(int fd, const char* data, std::size_t size, bool socket = false) {
  while (size > 0) {
    const ssize_t n = socket ? ::send(fd, data, size, MSG_NOSIGNAL) : ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

struct Console {
  int fd = -1;
  detail::ConsoleLineSplitter splitter;
};

}  // namespace

void pump_consoles(const ConsolePumpFds& fds,
                   const std::function<void(std::string_view line)>& deliver_line) {
  std::array<Console, 2> consoles;
  consoles[0].fd = fds.serial;
  consoles[1].fd = fds.virtio;
  std::array<char, 16 * 1024> buffer{};
  bool copy_ok = fds.copy >= 0;
  int input = fds.input_to >= 0 ? fds.input : -1;

  // Reads once from a console; false when it has ended (or, when `drain`, has nothing left).
  const auto read_console = [&](Console& console, bool drain) {
    for (;;) {
      const ssize_t n = ::recv(console.fd, buffer.data(), buffer.size(), drain ? MSG_DONTWAIT : 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      const auto size = static_cast<std::size_t>(n);
      if (copy_ok) copy_ok = write_all(fds.copy, buffer.data(), size);
      console.splitter.feed(std::string_view(buffer.data(), size), deliver_line);
      return true;
    }
  };

  for (;;) {
    // poll() ignores entries with a negative fd: ended consoles and absent input drop out.
    std::array<pollfd, 4> polled{{{consoles[0].fd, POLLIN, 0},
                                  {consoles[1].fd, POLLIN, 0},
                                  {fds.wake, POLLIN, 0},
                                  {input, POLLIN, 0}}};
    if (consoles[0].fd < 0 && consoles[1].fd < 0) break;  // QEMU is gone
    if (::poll(polled.data(), polled.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (polled[2].revents != 0) {
      // Told to finish (QEMU has been stopped by then): what it wrote last is still in the
      // sockets, so read without blocking until they are empty before leaving.
      for (auto& console : consoles) {
        while (console.fd >= 0 && read_console(console, true)) {
        }
      }
      break;
    }
    for (std::size_t i = 0; i < consoles.size(); ++i) {
      if (polled[i].revents != 0 && !read_console(consoles[i], false)) consoles[i].fd = -1;
    }
    if (input >= 0 && polled[3].revents != 0) {
      // Input for the guest, when the SerialToFd descriptor is readable. A write-only or
      // closed descriptor ends input (never a busy loop on POLLHUP/POLLERR).
      const ssize_t n = ::read(input, buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || !write_all(fds.input_to, buffer.data(), static_cast<std::size_t>(n), true)) {
        input = -1;
      }
    }
  }
  for (auto& console : consoles) console.splitter.flush(deliver_line);
}

}  // namespace vmm::qemu
