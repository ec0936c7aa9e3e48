#include "vz/console_reader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <string>

#include "runtime/posix.hpp"

namespace vmm::vz {
namespace {

using detail::quoted;

Error errno_error(const std::string& what) { return detail::errno_error(Errc::io, what); }

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

}  // namespace

Result<std::pair<FileDescriptor, FileDescriptor>> make_console_pipe() {
  return make_pipe("serial console pipe");
}

Result<FileDescriptor> open_serial_tee(const decltype(SerialPipePlan::tee)& tee) {
  if (const auto* file = std::get_if<SerialFilePlan>(&tee)) {
    const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (file->append ? O_APPEND : O_TRUNC);
    const int fd = ::open(file->path.c_str(), flags, 0644);
    if (fd < 0) return errno_error("serial file " + quoted(file->path));
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
  auto pump = detail::ConsolePump::start({std::move(read_end), std::move(tee), -1},
                                         std::move(on_line));
  if (!pump) return std::move(pump).error();
  return std::unique_ptr<ConsoleReader>(new ConsoleReader(std::move(*pump)));
}

}  // namespace vmm::vz
