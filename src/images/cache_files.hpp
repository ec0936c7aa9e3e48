// vmm internal: the file primitives of the image cache: an advisory lock held across
// processes (flock), atomic replacement of a file (temporary, fsync, rename, fsync directory).
#pragma once

#include <atomic>
#include <filesystem>
#include <string_view>

#include "vmm/error.hpp"

namespace vmm::images::detail {

class FileLock {
 public:
  // Waits for the exclusive lock on `path` (created if missing), polling so that `cancel` can
  // end the wait (Errc::cancelled).
  static Result<FileLock> acquire(const std::filesystem::path& path,
                                  const std::atomic<bool>* cancel = nullptr);
  // The lock now, or an empty FileLock when another process holds it.
  static Result<FileLock> try_acquire(const std::filesystem::path& path);
  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  ~FileLock();
  bool held() const { return fd_ >= 0; }

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

Result<void> fsync_path(const std::filesystem::path& path);
// Writes `content` to a temporary file beside `path`, fsyncs it, renames it over `path` and
// fsyncs the directory.
Result<void> write_file_atomically(const std::filesystem::path& path, std::string_view content);
// rename + fsync of the directory: `from` becomes `to` whole or not at all.
Result<void> commit_file(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace vmm::images::detail
