// vmm internal: the console pump thread.
#include "runtime/console_pump.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <utility>

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
  return ::poll(&probe, 1, 0) > 0 && (probe.revents & (POLLIN | POLLHUP)) != 0;
}

}  // namespace

struct ConsolePump::Shared {
  Ends ends;
  FileDescriptor wake;  // read end of the stop pipe
  OnLine on_line;
  ConsoleLineSplitter splitter;
  std::array<char, 16 * 1024> buffer{};

  // One read from the source; false at end of stream or on an error.
  bool pump_once(const ConsoleLineSplitter::Sink& sink) {
    const ssize_t n = ::read(ends.source.get(), buffer.data(), buffer.size());
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
    if (n <= 0) return false;
    const std::string_view bytes(buffer.data(), static_cast<std::size_t>(n));
    if (ends.tee && !write_all(ends.tee.get(), bytes)) ends.tee.reset();
    splitter.feed(bytes, sink);
    return true;
  }

  void forward_input() {
    const ssize_t n = ::read(ends.input, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) return;
    if (n <= 0 || !write_all(ends.source.get(), std::string_view(buffer.data(),
                                                                 static_cast<std::size_t>(n)))) {
      ends.input = -1;
    }
  }

  void run() {
    // A tee or socket whose reader went away must fail the write with EPIPE, not kill the
    // process: the signal is blocked on this thread only.
    sigset_t pipe_signal;
    sigemptyset(&pipe_signal);
    sigaddset(&pipe_signal, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
    const ConsoleLineSplitter::Sink sink = [this](std::string_view line) {
      if (on_line) on_line(line);
    };
    for (;;) {
      std::array<pollfd, 3> fds{{{ends.source.get(), POLLIN, 0},
                                 {wake.get(), POLLIN, 0},
                                 {ends.input, POLLIN, 0}}};
      if (::poll(fds.data(), ends.input >= 0 ? 3 : 2, -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (fds[1].revents != 0) {
        // Told to stop: what the guest wrote last may still be in the source; take it without
        // waiting for more (bounded, in case a guest that still runs keeps writing).
        for (int reads = 0; reads < 64 && readable_now(ends.source.get()) && pump_once(sink);
             ++reads) {
        }
        break;
      }
      if (fds[0].revents != 0 && !pump_once(sink)) break;  // end of stream
      if (ends.input >= 0 && fds[2].revents != 0) forward_input();
    }
    splitter.flush(sink);
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
