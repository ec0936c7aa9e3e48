// vmm internal: the console pump loop and its thread.
#include "runtime/console_pump.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <utility>

#include "runtime/console_line_splitter.hpp"
#include "runtime/posix.hpp"

namespace vmm::detail {

namespace {

// Close-on-exec pipe ends (macOS has no pipe2): {read, write}.
Result<std::array<FileDescriptor, 2>> make_pipe() {
  std::array<int, 2> fds{};
  if (::pipe(fds.data()) != 0) return errno_error(Errc::io, "console stop pipe");
  std::array<FileDescriptor, 2> ends{FileDescriptor(fds[0]), FileDescriptor(fds[1])};
  for (int fd : fds) {
    if (::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) return errno_error(Errc::io, "console stop pipe");
  }
  return ends;
}

bool readable_now(int fd) {
  pollfd probe{fd, POLLIN, 0};
  return ::poll(&probe, 1, 0) > 0 && probe.revents != 0;
}

struct Console {
  int fd = -1;
  ConsoleLineSplitter splitter;
};

}  // namespace

void pump_consoles(const ConsolePumpFds& fds,
                   const std::function<void(std::string_view line)>& deliver_line) {
  sigset_t pipe_signal;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);

  const ConsoleLineSplitter::Sink sink = [&](std::string_view line) {
    if (deliver_line) deliver_line(line);
  };
  std::array<Console, 2> consoles;
  consoles[0].fd = fds.consoles[0];
  consoles[1].fd = fds.consoles[1];
  std::array<char, 16 * 1024> buffer{};
  bool copy_ok = fds.copy >= 0;
  int input = fds.input_to >= 0 ? fds.input : -1;

  // Reads once from a console; false when it has ended.
  const auto read_console = [&](Console& console) {
    for (;;) {
      const ssize_t n = ::read(console.fd, buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return true;
      if (n <= 0) return false;
      const std::string_view bytes(buffer.data(), static_cast<std::size_t>(n));
      if (copy_ok) copy_ok = write_all(fds.copy, bytes);
      console.splitter.feed(bytes, sink);
      return true;
    }
  };

  for (;;) {
    if (consoles[0].fd < 0 && consoles[1].fd < 0) break;  // every console has ended
    // poll() ignores entries with a negative fd: ended consoles and absent input drop out.
    std::array<pollfd, 4> polled{{{consoles[0].fd, POLLIN, 0},
                                  {consoles[1].fd, POLLIN, 0},
                                  {fds.wake, POLLIN, 0},
                                  {input, POLLIN, 0}}};
    if (::poll(polled.data(), polled.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (polled[2].revents != 0) {
      // Told to finish (QEMU has been stopped by then): what the guest wrote last may still be
      // buffered, so read what is there without waiting for more before leaving.
      // (Bounded, in case a guest that still runs keeps writing.)
      for (auto& console : consoles) {
        for (int reads = 0; reads < 1024 && console.fd >= 0 && readable_now(console.fd) &&
                            read_console(console);
             ++reads) {
        }
      }
      break;
    }
    for (std::size_t i = 0; i < consoles.size(); ++i) {
      if (polled[i].revents != 0 && !read_console(consoles[i])) consoles[i].fd = -1;
    }
    if (input >= 0 && polled[3].revents != 0) {
      // A write-only or closed input descriptor ends input (never a busy loop on POLLHUP).
      const ssize_t n = ::read(input, buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 ||
          !write_all(fds.input_to, std::string_view(buffer.data(), static_cast<std::size_t>(n)))) {
        input = -1;
      }
    }
  }
  for (auto& console : consoles) console.splitter.flush(sink);
}

struct ConsolePump::Shared {
  Ends ends;
  FileDescriptor wake;  // read end of the stop pipe
  OnLine on_line;

  void run() {
    ConsolePumpFds fds;
    fds.consoles[0] = ends.source.get();
    fds.wake = wake.get();
    fds.copy = ends.tee ? ends.tee.get() : -1;
    fds.input = ends.input;
    fds.input_to = ends.input >= 0 ? ends.source.get() : -1;
    pump_consoles(fds, on_line);
  }
};

Result<std::unique_ptr<ConsolePump>> ConsolePump::start(Ends ends, OnLine on_line) {
  if (!ends.source) return make_error(Errc::invalid_config, "console pump: no source descriptor");
  auto stop = make_pipe();
  if (!stop) return stop.error();
  auto shared = std::make_shared<Shared>();
  shared->ends = std::move(ends);
  shared->wake = std::move((*stop)[0]);
  shared->on_line = std::move(on_line);
  // The thread owns the shared state, so a detached thread (see stop()) stays valid.
  std::thread thread([shared] { shared->run(); });
  return std::unique_ptr<ConsolePump>(new ConsolePump(std::move((*stop)[1]), std::move(thread)));
}

ConsolePump::~ConsolePump() { stop(); }

void ConsolePump::stop() noexcept {
  // Closing the stop pipe's write end wakes the thread (POLLHUP). Writing a byte instead would
  // raise SIGPIPE here if the thread had already ended and closed the read end.
  wake_.reset();
  join_or_detach(thread_);
}

}  // namespace vmm::detail
