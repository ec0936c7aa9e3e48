// Raw disk files: create sparse, grow, and qcow2 -> raw through the external `qemu-img`.
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "runtime/posix.hpp"
#include "vmm/disks.hpp"

extern char** environ;

namespace vmm::disks {
namespace {

using vmm::detail::errno_error;
using vmm::detail::quoted;

// The first executable `name` on $PATH.
std::optional<std::filesystem::path> find_on_path(std::string_view name) {
  const char* path = std::getenv("PATH");
  std::string_view list = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    const auto colon = list.find(':');
    const auto dir = list.substr(0, colon);
    if (!dir.empty()) {
      const auto candidate = std::filesystem::path(std::string(dir)) / std::string(name);
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    if (colon == std::string_view::npos) return std::nullopt;
    list.remove_prefix(colon + 1);
  }
}

}  // namespace

Result<void> create_raw(const std::filesystem::path& path, Size size) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return errno_error(Errc::io, "create disk " + quoted(path));
  const bool ok = ::ftruncate(fd, static_cast<off_t>(size.as_bytes())) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return errno_error(Errc::io, "size disk " + quoted(path), saved);
  }
  return {};
}

Result<void> grow_raw(const std::filesystem::path& path, Size size) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errno_error(Errc::not_found, "disk " + quoted(path));
  const auto current = static_cast<std::uint64_t>(st.st_size);
  if (size.as_bytes() < current) {
    return Error(Errc::invalid_config, "disk " + quoted(path) + " is " + std::to_string(current) +
                                           " bytes: growing it to " + std::to_string(size.as_bytes()) +
                                           " would shrink it");
  }
  if (size.as_bytes() == current) return {};
  if (::truncate(path.c_str(), static_cast<off_t>(size.as_bytes())) != 0) {
    return errno_error(Errc::io, "grow disk " + quoted(path));
  }
  return {};
}

Result<void> convert_qcow2_to_raw(const std::filesystem::path& qcow2,
                                  const std::filesystem::path& raw) {
  const auto tool = find_on_path("qemu-img");
  if (!tool) {
    return Error(Errc::not_found, "qemu-img is not on PATH: converting " + quoted(qcow2) +
                                      " needs it (Debian: apt install qemu-utils; Homebrew: brew install qemu)");
  }
  // qemu-img writes a sparse raw file; its own messages go to our stderr.
  std::vector<std::string> args = {tool->string(), "convert", "-q", "-f", "qcow2", "-O", "raw",
                                   qcow2.string(), raw.string()};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (const int rc = ::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ); rc != 0) {
    return errno_error(Errc::io, "start " + quoted(*tool), rc);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return errno_error(Errc::io, "wait for qemu-img");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Error(Errc::io, "qemu-img convert " + quoted(qcow2) + " -> " + quoted(raw) +
                               " failed (exit status " +
                               std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")");
  }
  return {};
}

}  // namespace vmm::disks
