#include "vz/console_reader.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>

#include "runtime/console_line_splitter.hpp"

namespace vmm::vz {
namespace {

Error errno_error(const std::string& what) {
  return Error(Errc::io, what + ": " + std::strerror(errno));
}

Result<std::pair<FileDescriptor, FileDescriptor>> make_pipe(const char* what) {
  std::array<int, 2> fds{};
  if (::pipe(fds.data()) != 0) return errno_error(what);
  std::pair<FileDescriptor, FileDescriptor> ends{FileDescriptor(fds[0]), FileDescriptor(fds[1])};
  // macOS has no pipe2(): set close-on-exec right after, so no child process inherits them.
  for (int fd : fds) {
    if (::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) return errno_error(what);
  }
  return ends;
}

// Writes everything or fails; a tee that fails is dropped, the lines go on.
bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

struct ConsoleReader::Shared {
  FileDescriptor read_end;
  FileDescriptor tee;
  FileDescriptor wake;  // read end of the stop pipe
  OnLine on_line;
  detail::ConsoleLineSplitter splitter;

  void run() {
    // A tee whose reader went away must fail the write with EPIPE, not kill the process: the
    // signal is blocked on this thread only.
    sigset_t pipe_signal;
    sigemptyset(&pipe_signal);
    sigaddset(&pipe_signal, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
    const detail::ConsoleLineSplitter::Sink sink = [this](std::string_view line) { on_line(line); };
    std::array<char, 4096> buffer{};
    for (;;) {
      std::array<pollfd, 2> fds{pollfd{read_end.get(), POLLIN, 0}, pollfd{wake.get(), POLLIN, 0}};
      if (::poll(fds.data(), fds.size(), -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[1].revents != 0) return;  // the reader is being destroyed
      if (fds[0].revents == 0) continue;
      const ssize_t n = ::read(read_end.get(), buffer.data(), buffer.size());
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) {  // end of stream: the VM released the write end
        splitter.flush(sink);
        return;
      }
      const std::string_view bytes(buffer.data(), static_cast<std::size_t>(n));
      if (tee && !write_all(tee.get(), bytes)) tee.reset();
      splitter.feed(bytes, sink);
    }
  }
};

Result<std::pair<FileDescriptor, FileDescriptor>> make_console_pipe() {
  return make_pipe("serial console pipe");
}

Result<FileDescriptor> open_serial_tee(const decltype(SerialPipePlan::tee)& tee) {
  if (const auto* file = std::get_if<SerialFilePlan>(&tee)) {
    const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (file->append ? O_APPEND : O_TRUNC);
    const int fd = ::open(file->path.c_str(), flags, 0644);
    if (fd < 0) return errno_error("serial file \"" + file->path.string() + "\"");
    return FileDescriptor(fd);
  }
  if (const auto* borrowed = std::get_if<SerialFdPlan>(&tee)) {
    // The caller keeps its fd; the reader owns a duplicate so it can close it on its own.
    const int fd = ::fcntl(borrowed->fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return errno_error("serial fd " + std::to_string(borrowed->fd));
    return FileDescriptor(fd);
  }
  return FileDescriptor();
}

Result<std::unique_ptr<ConsoleReader>> ConsoleReader::start(FileDescriptor read_end,
                                                            FileDescriptor tee, OnLine on_line) {
  auto stop = make_pipe("serial console stop pipe");
  if (!stop) return stop.error();
  auto shared = std::make_shared<Shared>();
  shared->read_end = std::move(read_end);
  shared->tee = std::move(tee);
  shared->wake = std::move(stop->first);
  shared->on_line = std::move(on_line);
  // The thread owns the shared state, so a detached thread (see the destructor) stays valid.
  std::thread thread([shared] { shared->run(); });
  return std::unique_ptr<ConsoleReader>(
      new ConsoleReader(std::move(stop->second), std::move(thread)));
}

ConsoleReader::~ConsoleReader() {
  // Closing the stop pipe's write end wakes the thread (POLLHUP). Writing a byte instead would
  // raise SIGPIPE here if the thread had already ended and closed the read end.
  wake_.reset();
  if (!thread_.joinable()) return;
  if (thread_.get_id() == std::this_thread::get_id()) {
    thread_.detach();
  } else {
    thread_.join();
  }
}

}  // namespace vmm::vz
