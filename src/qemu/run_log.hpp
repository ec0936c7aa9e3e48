// vmm internal (QEMU backend): the log of one QEMU run — its stderr, which is also where QEMU's
// own log goes (vmm gives no -D file) — written to `qemu-run-<N>.log` in the working directory,
// at most `limit` bytes (then one truncation line), each line also sent to vmm::logger() at
// debug. Older runs' logs beyond the last `keep_runs` are removed when a run starts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "runtime/console_line_splitter.hpp"
#include "vmm/error.hpp"
#include "vmm/file_descriptor.hpp"

namespace vmm::qemu {

class RunLog {
 public:
  static constexpr std::size_t default_limit = 1024 * 1024;
  static constexpr std::uint64_t keep_runs = 4;

  static Result<std::shared_ptr<RunLog>> create(const std::filesystem::path& work_dir,
                                                std::uint64_t run, std::size_t limit = default_limit);

  // Any thread (the process's waiter thread). Never fails: a full disk loses log text only.
  void write(std::string_view chunk);
  const std::filesystem::path& path() const { return path_; }

 private:
  RunLog(std::filesystem::path path, FileDescriptor fd, std::size_t limit);

  std::filesystem::path path_;
  std::mutex mutex_;
  FileDescriptor fd_;
  std::size_t limit_;
  std::size_t written_ = 0;
  bool truncated_ = false;
  detail::ConsoleLineSplitter lines_;  // for the logger
};

}  // namespace vmm::qemu
