// vmm internal (QEMU backend): QEMU's confinement options, from its -help text.
#include "qemu/capabilities.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <fmt/format.h>

extern char** environ;

namespace vmm::qemu {
namespace {

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// An option's first help line begins with "-name" followed by a blank or the line's end.
bool is_option_line(std::string_view line, std::string_view option) {
  return starts_with(line, option) &&
         (line.size() == option.size() || line[option.size()] == ' ' ||
          line[option.size()] == '\t');
}

}  // namespace

QemuCapabilities parse_qemu_help(std::string_view help) {
  QemuCapabilities caps;
  // The text of -run-with runs from its own line to the next option's line.
  bool in_run_with = false;
  std::size_t begin = 0;
  while (begin < help.size()) {
    std::size_t end = help.find('\n', begin);
    if (end == std::string_view::npos) end = help.size();
    const std::string_view line = help.substr(begin, end - begin);
    begin = end + 1;
    if (starts_with(line, "-")) in_run_with = is_option_line(line, "-run-with");
    if (is_option_line(line, "-sandbox")) caps.sandbox = true;
    if (is_option_line(line, "-chroot")) caps.chroot_option = true;
    if (is_option_line(line, "-runas")) caps.runas_option = true;
    if (in_run_with) {
      if (line.find("chroot=") != std::string_view::npos) caps.run_with_chroot = true;
      if (line.find("user=") != std::string_view::npos) caps.run_with_user = true;
    }
  }
  return caps;
}

Result<QemuCapabilities> probe_qemu_capabilities(const std::filesystem::path& binary) {
  // One probe per binary for the life of the process: -help does not change under us.
  static std::mutex mutex;
  static std::map<std::filesystem::path, QemuCapabilities> cache;
  {
    std::lock_guard lock(mutex);
    if (const auto it = cache.find(binary); it != cache.end()) return it->second;
  }
  std::array<int, 2> out{};
  if (::pipe2(out.data(), O_CLOEXEC) != 0) {
    return make_error(Errc::io, fmt::format("pipe: {}", std::strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  ::posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  // Nothing else of ours reaches the child (a descriptor without close-on-exec would).
  ::posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  const std::string path = binary.string();
  std::vector<char*> argv = {const_cast<char*>(path.c_str()), const_cast<char*>("-help"),
                             nullptr};
  pid_t pid = 0;
  const int spawned = ::posix_spawn(&pid, path.c_str(), &actions, nullptr, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (spawned != 0) {
    ::close(out[0]);
    return make_error(Errc::not_found,
                      fmt::format("cannot run {} -help: {}", path, std::strerror(spawned)));
  }
  std::string help;
  std::array<char, 4096> buffer{};
  for (;;) {
    const ssize_t n = ::read(out[0], buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    help.append(buffer.data(), static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return make_error(Errc::backend, fmt::format("{} -help failed", path));
  }
  const QemuCapabilities caps = parse_qemu_help(help);
  std::lock_guard lock(mutex);
  cache[binary] = caps;
  return caps;
}

}  // namespace vmm::qemu
