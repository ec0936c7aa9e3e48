#include "guest_fixture.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace vmm::testing {
namespace fs = std::filesystem;

bool running_in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string_view(ci) == "true";
}

namespace {

// The guest in $<env> (else `fallback`); `build` is the command that builds it.
GuestAssets find_assets_in(const char* env, const char* fallback, const std::string& build) {
  GuestAssets assets;
  const char* dir = std::getenv(env);
  const fs::path guest_dir = dir != nullptr ? fs::path(dir) : fs::path(fallback);
  assets.kernel = guest_dir / "vmlinuz";
  assets.initrd = guest_dir / "initrd.img";
  std::error_code ec;
  if (!fs::exists(assets.kernel, ec) || !fs::exists(assets.initrd, ec)) {
    assets.missing = "no test guest in " + guest_dir.string() + ": run " + build +
                     guest_dir.string() + " (or set " + env + ")";
  } else if (std::system("command -v qemu-system-x86_64 >/dev/null 2>&1") != 0) {
    assets.missing = "qemu-system-x86_64 is not installed: apt-get install qemu-system-x86";
  }
  return assets;
}

}  // namespace

GuestAssets find_guest_assets() {
  return find_assets_in("VMM_GUEST_DIR", "build/guest", "scripts/guest-assets.sh ");
}

GuestAssets find_generic_guest_assets() {
  return find_assets_in("VMM_GUEST_GENERIC_DIR", VMM_GUEST_GENERIC_DIR_DEFAULT,
                        "VMM_GUEST_KERNEL=generic scripts/guest-assets.sh ");
}

void GuestConsole::on_line(std::string_view line) {
  std::lock_guard lock(mutex_);
  lines_.emplace_back(line);
  constexpr std::string_view prefix = "VMM-COUNTER ";
  if (line.substr(0, prefix.size()) == prefix) {
    try {
      last_counter_ = std::stol(std::string(line.substr(prefix.size())));
    } catch (const std::exception&) {
      // A garbled line (e.g. kernel output interleaved) is not a counter.
    }
  }
  changed_.notify_all();
}

bool GuestConsole::wait_for_line(std::string_view text, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] {
    for (const auto& line : lines_)
      if (line == text) return true;
    return false;
  });
}

std::optional<std::string> GuestConsole::wait_for_containing(std::string_view text,
                                                         std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  std::optional<std::string> found;
  changed_.wait_for(lock, timeout, [&] {
    for (const auto& line : lines_) {
      if (line.find(text) != std::string::npos) {
        found = line;
        return true;
      }
    }
    return false;
  });
  return found;
}

std::optional<long> GuestConsole::wait_counter_above(long after, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, timeout, [&] { return last_counter_ > after; })) return std::nullopt;
  return last_counter_;
}

long GuestConsole::last_counter() {
  std::lock_guard lock(mutex_);
  return last_counter_;
}

int GuestConsole::count(std::string_view text) {
  std::lock_guard lock(mutex_);
  int n = 0;
  for (const auto& line : lines_) n += line == text ? 1 : 0;
  return n;
}

namespace {

// (parent pid, command name) from /proc/<pid>/stat; the name may contain spaces, so it is
// read between the first '(' and the last ')'. Plain open/read(2): a process that exits while
// we look makes open or read fail (ENOENT, ESRCH), which means it is gone, never an exception.
bool read_stat(const fs::path& stat_path, int& ppid, std::string& comm) {
  const int fd = ::open(stat_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::string text;
  char buffer[1024];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      if (n < 0) return false;
      break;
    }
    text.append(buffer, static_cast<std::size_t>(n));
  }
  const auto open = text.find('(');
  const auto close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return false;
  comm = text.substr(open + 1, close - open - 1);
  // After ") ": the state (one character), a space, then the parent pid.
  const char* rest = text.c_str() + close + 1;
  char state = 0;
  return std::sscanf(rest, " %c %d", &state, &ppid) == 2;
}

}  // namespace

std::vector<int> child_qemu_pids() {
  std::vector<std::pair<int, std::pair<int, std::string>>> procs;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const auto name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    int ppid = 0;
    std::string comm;
    if (read_stat(entry.path() / "stat", ppid, comm)) procs.push_back({std::stoi(name), {ppid, comm}});
  }
  std::vector<int> descendants{static_cast<int>(::getpid())};
  std::vector<int> qemus;
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& [pid, info] : procs) {
      bool known = false;
      for (int d : descendants) known = known || d == pid;
      if (known) continue;
      for (int d : descendants) {
        if (info.first != d) continue;
        descendants.push_back(pid);
        if (info.second.rfind("qemu-system", 0) == 0) qemus.push_back(pid);
        grew = true;
        break;
      }
    }
  }
  return qemus;
}

VmConfigBuilder guest_config(const GuestAssets& assets, std::string guest_options,
                             std::string_view console) {
  std::string cmdline = "console=" + std::string(console) + " quiet panic=-1";
  if (!guest_options.empty()) cmdline += " " + guest_options;
  auto builder = VmConfig::builder();
  builder.cpus(1).memory(Size::mib(256)).linux_boot(assets.kernel, assets.initrd, cmdline);
  return builder;
}

CreateOptions guest_create_options(GuestConsole& console) {
  CreateOptions options;
  options.backend = Backend::qemu;
  options.qemu.acceleration = Acceleration::automatic;
  options.on_console_line = console.sink();
  return options;
}

}  // namespace vmm::testing
