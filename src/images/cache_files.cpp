#include "images/cache_files.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "runtime/posix.hpp"

namespace vmm::images::detail {
namespace {

using vmm::detail::errno_error;
using vmm::detail::quoted;

Result<int> open_lock_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return errno_error(Errc::io, "open lock " + quoted(path));
  return fd;
}

}  // namespace

Result<FileLock> FileLock::acquire(const std::filesystem::path& path,
                                   const std::atomic<bool>* cancel) {
  auto fd = open_lock_file(path);
  if (!fd) return std::move(fd).error();
  for (;;) {
    if (::flock(*fd, LOCK_EX | LOCK_NB) == 0) return FileLock(*fd);
    if (errno != EWOULDBLOCK && errno != EINTR) {
      auto error = errno_error(Errc::io, "lock " + quoted(path));
      ::close(*fd);
      return error;
    }
    if (cancel != nullptr && cancel->load()) {
      ::close(*fd);
      return Error(Errc::cancelled, "cancelled while waiting for " + quoted(path));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

Result<FileLock> FileLock::try_acquire(const std::filesystem::path& path) {
  auto fd = open_lock_file(path);
  if (!fd) return std::move(fd).error();
  if (::flock(*fd, LOCK_EX | LOCK_NB) == 0) return FileLock(*fd);
  ::close(*fd);
  return FileLock(-1);
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

Result<void> fsync_path(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_error(Errc::io, "open " + quoted(path));
  const int rc = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  if (rc != 0) return errno_error(Errc::io, "fsync " + quoted(path), saved);
  return {};
}

Result<void> commit_file(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return errno_error(Errc::io, "rename " + quoted(from) + " to " + quoted(to));
  }
  return fsync_path(to.parent_path().empty() ? std::filesystem::path(".") : to.parent_path());
}

Result<void> write_file_atomically(const std::filesystem::path& path, std::string_view content) {
  auto temporary = path;
  temporary += ".tmp." + std::to_string(::getpid());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno_error(Errc::io, "create " + quoted(temporary));
  const bool written = vmm::detail::write_all(fd, content) && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!written) {
    ::unlink(temporary.c_str());
    return errno_error(Errc::io, "write " + quoted(temporary), saved);
  }
  return commit_file(temporary, path);
}

}  // namespace vmm::images::detail
