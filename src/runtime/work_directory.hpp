// vmm internal: the directory a VM keeps its runtime files in (sockets, logs).
#pragma once

#include <filesystem>

#include "vmm/error.hpp"

namespace vmm::detail {

// Either a directory the caller named (kept) or a fresh private one under the system temp
// directory (removed by remove() or the destructor). Movable, not copyable.
class WorkDirectory {
 public:
  WorkDirectory() = default;
  // `requested` empty: a new mode-0700 directory "vmm-XXXXXX" under the temp directory.
  // Otherwise `requested`, created if missing, never removed by the library.
  static Result<WorkDirectory> prepare(const std::filesystem::path& requested);

  WorkDirectory(WorkDirectory&& other) noexcept;
  WorkDirectory& operator=(WorkDirectory&& other) noexcept;
  WorkDirectory(const WorkDirectory&) = delete;
  WorkDirectory& operator=(const WorkDirectory&) = delete;
  ~WorkDirectory();

  const std::filesystem::path& path() const { return path_; }
  bool owned() const { return owned_; }
  // Removes an owned directory with its contents; a caller's directory is left alone.
  void remove() noexcept;

 private:
  WorkDirectory(std::filesystem::path path, bool owned) : path_(std::move(path)), owned_(owned) {}
  std::filesystem::path path_;
  bool owned_ = false;
};

}  // namespace vmm::detail
