// vmm internal (QEMU backend): one run's log file (see run_log.hpp).
#include "qemu/run_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "runtime/posix.hpp"
#include "vmm/logging.hpp"

namespace vmm::qemu {

Result<std::shared_ptr<RunLog>> RunLog::create(const std::filesystem::path& work_dir,
                                               std::uint64_t run, std::size_t limit) {
  // The last keep_runs runs stay (this one included); the one before them goes.
  if (run > keep_runs) {
    std::error_code ignored;
    std::filesystem::remove(work_dir / fmt::format("qemu-run-{}.log", run - keep_runs), ignored);
  }
  auto path = work_dir / fmt::format("qemu-run-{}.log", run);
  FileDescriptor fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640));
  if (!fd) {
    return make_error(Errc::io, fmt::format("cannot create the QEMU log {}: {}", path.string(),
                                            std::strerror(errno)));
  }
  return std::shared_ptr<RunLog>(new RunLog(std::move(path), std::move(fd), limit));
}

RunLog::RunLog(std::filesystem::path path, FileDescriptor fd, std::size_t limit)
    : path_(std::move(path)), fd_(std::move(fd)), limit_(limit) {}

void RunLog::write(std::string_view chunk) {
  std::lock_guard lock(mutex_);
  lines_.feed(chunk, [](std::string_view line) { vmm::logger()->debug("qemu: {}", line); });
  if (truncated_) return;
  const std::size_t room = limit_ - written_;
  const std::string_view part = chunk.substr(0, room);
  // Best effort: losing log text on a full disk must not fail the VM.
  if (!detail::write_all(fd_.get(), part)) return;
  written_ += part.size();
  if (part.size() < chunk.size()) {
    truncated_ = true;
    constexpr std::string_view marker = "\n[vmm: log truncated]\n";
    (void)detail::write_all(fd_.get(), marker);
  }
}

}  // namespace vmm::qemu
