// bench/lifecycle: what vmm adds to each lifecycle operation, measured against a baseline that
// drives the same QEMU binary with the same arguments directly, in the same run.
//
//   lifecycle --kernel vmlinuz --initrd initrd.img [--rounds 5] [--pause-iterations 20]
//
// The baseline does what vmm's QEMU engine (src/qemu/qemu_engine.cpp) does, minus vmm: argv from
// vmm::qemu::build_qemu_command_line (same host facts from probe_host, QMP and console as
// socketpairs on child fds 3 and 4), posix_spawn, a minimal blocking QMP client (greeting,
// qmp_capabilities, migrate-set-capabilities events=on, then commands; getfd with SCM_RIGHTS),
// a console reader thread for the guest's marker, save via getfd + migrate fd: and the MIGRATION
// event, restore via -S -incoming defer + migrate-incoming fd: + cont, stop via quit + exit.
// Rounds alternate (vmm, baseline, vmm, baseline, ...) so that drift hits both alike.
//
// The guest is the test guest of scripts/guest-assets.sh: "VMM-GUEST-READY", then
// "VMM-COUNTER n" every 200 ms. Every wait is bounded; a failure prints what failed and exits 1;
// QEMU processes and temporary files do not outlive the program.
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>
#include <vmm/format.hpp>  // fmt formatters for vmm types (opt-in)
#include <vmm/vmm.hpp>

#include "qemu/command_line.hpp"
#include "qemu/host.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using nlohmann::json;

// Bounds on every wait. TCG boots take a few seconds; a loaded machine can take many more.
constexpr auto boot_timeout = 120s;
constexpr auto greeting_timeout = 30s;
constexpr auto command_timeout = 10s;
constexpr auto exit_timeout = 5s;
constexpr auto migration_timeout = 300s;
constexpr auto guest_line_timeout = 30s;

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Failure(fmt::format(format, std::forward<Args>(args)...));
}

std::string errno_text() { return std::strerror(errno); }

double ms_between(Clock::time_point begin, Clock::time_point end) {
  return std::chrono::duration<double, std::milli>(end - begin).count();
}

// ---- signals: ^C must leave no QEMU and no temporary files behind ------------------------------
// SIGINT/SIGTERM/SIGHUP are blocked in every thread and taken by one thread with sigwait, which
// kills the baseline's QEMU, removes the temporary directory and exits. (vmm's QEMU children die
// with this process: PR_SET_PDEATHSIG.)

std::atomic<pid_t> live_baseline_pid{0};
std::mutex temp_dir_mutex;
std::filesystem::path temp_dir_to_remove;

sigset_t terminating_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

void start_signal_thread() {
  const sigset_t set = terminating_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set] {
    int signal = 0;
    if (sigwait(&set, &signal) != 0) return;
    const pid_t pid = live_baseline_pid.load();
    if (pid > 0) ::kill(pid, SIGKILL);
    {
      std::lock_guard lock(temp_dir_mutex);
      std::error_code ec;
      if (!temp_dir_to_remove.empty()) std::filesystem::remove_all(temp_dir_to_remove, ec);
    }
    std::fprintf(stderr, "lifecycle: interrupted (signal %d)\n", signal);
    ::_exit(128 + signal);
  }).detach();
}

// ---- what the guest prints
// -----------------------------------------------------------------------

class GuestLines {
 public:
  void reset() {
    std::lock_guard lock(mutex_);
    ready_at_.reset();
    counter_ = -1;
  }
  void on_line(std::string_view line, Clock::time_point at) {
    std::lock_guard lock(mutex_);
    if (line == "VMM-GUEST-READY" && !ready_at_) ready_at_ = at;
    constexpr std::string_view prefix = "VMM-COUNTER ";
    if (line.substr(0, prefix.size()) == prefix) {
      counter_ = std::strtol(std::string(line.substr(prefix.size())).c_str(), nullptr, 10);
    }
    changed_.notify_all();
  }
  Clock::time_point wait_ready(std::chrono::seconds timeout, std::string_view who) {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, timeout, [&] { return ready_at_.has_value(); })) {
      fail("{}: the guest printed no VMM-GUEST-READY within {} s", who, timeout.count());
    }
    return *ready_at_;
  }
  long wait_counter_above(long after, std::chrono::seconds timeout, std::string_view who) {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, timeout, [&] { return counter_ > after; })) {
      fail("{}: the guest printed no VMM-COUNTER above {} within {} s", who, after,
           timeout.count());
    }
    return counter_;
  }
  long counter() {
    std::lock_guard lock(mutex_);
    return counter_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<Clock::time_point> ready_at_;
  long counter_ = -1;
};

// ---- baseline: QEMU driven directly
// --------------------------------------------------------------

class FdGuard {
 public:
  FdGuard() = default;
  explicit FdGuard(int fd) : fd_(fd) {}
  FdGuard(FdGuard&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FdGuard& operator=(FdGuard&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~FdGuard() { reset(); }
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<long long>(0, left.count()));
}

// A minimal blocking QMP client: one command at a time, replies read in order; events are
// skipped except MIGRATION, whose status is remembered (as vmm's engine does).
class RawQmp {
 public:
  explicit RawQmp(int fd) : fd_(fd) {}

  void read_greeting(std::chrono::milliseconds timeout) {
    const auto message = read_message(Clock::now() + timeout, "the QMP greeting");
    if (!message.contains("QMP"))
      fail("baseline: expected the QMP greeting, got {}", message.dump());
  }

  json execute(std::string_view command, const json& arguments = json::object(),
               std::chrono::milliseconds timeout = command_timeout, int pass_fd = -1) {
    json request{{"execute", command}};
    if (!arguments.empty()) request["arguments"] = arguments;
    send(request.dump() + "\n", pass_fd);
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      auto message = read_message(deadline, command);
      if (message.contains("event")) continue;
      if (auto it = message.find("return"); it != message.end()) return *it;
      if (auto it = message.find("error"); it != message.end()) {
        fail("baseline: QEMU refused {}: {}", command, it->dump());
      }
    }
  }

  // Reads until a MIGRATION event ends the stream; returns its status.
  std::string wait_migration(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!migration_final()) read_message(deadline, "the MIGRATION event");
    return migration_status_;
  }

  void reset_migration_status() { migration_status_.clear(); }

 private:
  bool migration_final() const {
    return migration_status_ == "completed" || migration_status_ == "failed" ||
           migration_status_ == "cancelled";
  }

  void send(const std::string& text, int pass_fd) {
    std::size_t offset = 0;
    while (offset < text.size()) {
      iovec iov{const_cast<char*>(text.data() + offset), text.size() - offset};
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int))> control{};
      if (pass_fd >= 0 && offset == 0) {
        msg.msg_control = control.data();
        msg.msg_controllen = control.size();
        cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(cmsg), &pass_fd, sizeof(int));
      }
      const ssize_t sent = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
      if (sent < 0 && errno == EINTR) continue;
      if (sent < 0) fail("baseline: writing to QMP failed: {}", errno_text());
      offset += static_cast<std::size_t>(sent);
    }
  }

  // The next message, events included (a MIGRATION event's status is remembered).
  json read_message(Clock::time_point deadline, std::string_view waiting_for) {
    for (;;) {
      if (const auto newline = buffer_.find('\n'); newline != std::string::npos) {
        const std::string line = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        json message = json::parse(line, nullptr, false);
        if (message.is_discarded() || !message.is_object()) {
          fail("baseline: QEMU sent invalid QMP: {}", line);
        }
        if (message.contains("event") && message["event"] == "MIGRATION") {
          migration_status_ = message["data"].value("status", "");
        }
        return message;
      }
      pollfd pfd{fd_, POLLIN, 0};
      const int ready = ::poll(&pfd, 1, remaining_ms(deadline));
      if (ready < 0 && errno == EINTR) continue;
      if (ready < 0) fail("baseline: poll on QMP failed: {}", errno_text());
      if (ready == 0) fail("baseline: timed out waiting for {}", waiting_for);
      std::array<char, 64 * 1024> chunk{};
      const ssize_t n = ::recv(fd_, chunk.data(), chunk.size(), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail("baseline: QEMU closed QMP while waiting for {}", waiting_for);
      buffer_.append(chunk.data(), static_cast<std::size_t>(n));
    }
  }

  int fd_;
  std::string buffer_;
  std::string migration_status_;
};

// Socketpair ends above 5, so that posix_spawn's dup2 onto 3, 4 and 5 never meets itself.
std::pair<FdGuard, FdGuard> socketpair_high() {
  std::array<int, 2> fds{};
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds.data()) != 0) {
    fail("baseline: socketpair: {}", errno_text());
  }
  FdGuard a(fds[0]), b(fds[1]);
  FdGuard high_b(::fcntl(b.get(), F_DUPFD_CLOEXEC, 10));
  if (high_b.get() < 0) fail("baseline: fcntl: {}", errno_text());
  return {std::move(a), std::move(high_b)};
}

// One QEMU process started by the baseline.
class RawQemu {
 public:
  RawQemu(std::vector<std::string> argv, const fs::path& stderr_log, GuestLines& guest)
      : guest_(guest), stderr_log_(stderr_log) {
    auto [qmp_ours, qmp_child] = socketpair_high();
    auto [console_ours, console_child] = socketpair_high();
    // The virtio console (hvc0, descriptor 5) as vmm's command line has it; the guest's lines
    // go to the serial console, so this end is only held open.
    auto [virtio_console_ours, virtio_console_child] = socketpair_high();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, stderr_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
    posix_spawn_file_actions_adddup2(&actions, qmp_child.get(), 3);
    posix_spawn_file_actions_adddup2(&actions, console_child.get(), 4);
    posix_spawn_file_actions_adddup2(&actions, virtio_console_child.get(), 5);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    // As vmm's Process: own process group, default signal dispositions, nothing blocked.
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attributes, &all);
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setpgroup(&attributes, 0);
    posix_spawnattr_setflags(
        &attributes,
        static_cast<short>(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP));
    std::vector<char*> args;
    for (auto& arg : argv) args.push_back(arg.data());
    args.push_back(nullptr);
    const int rc = ::posix_spawn(&pid_, args[0], &actions, &attributes, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (rc != 0) fail("baseline: posix_spawn {}: {}", argv[0], std::strerror(rc));
    live_baseline_pid = pid_;
    pidfd_.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)));
    if (pidfd_.get() < 0) {
      ::kill(pid_, SIGKILL);
      reap();
      fail("baseline: pidfd_open: {}", errno_text());
    }
    qmp_child.reset();
    console_child.reset();
    qmp_fd_ = std::move(qmp_ours);
    console_fd_ = std::move(console_ours);
    virtio_console_fd_ = std::move(virtio_console_ours);
    qmp_ = std::make_unique<RawQmp>(qmp_fd_.get());
    console_thread_ = std::thread([this] { console_loop(); });
  }

  ~RawQemu() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      reap();
    }
    if (console_thread_.joinable()) console_thread_.join();
  }
  RawQemu(const RawQemu&) = delete;
  RawQemu& operator=(const RawQemu&) = delete;

  RawQmp& qmp() { return *qmp_; }

  // As vmm's launch(): greeting, qmp_capabilities, MIGRATION events on.
  void negotiate() {
    qmp_->read_greeting(greeting_timeout);
    qmp_->execute("qmp_capabilities");
    qmp_->execute("migrate-set-capabilities",
                  {{"capabilities", json::array({{{"capability", "events"}, {"state", true}}})}});
  }

  // quit, then wait for the process to be gone and its console to end.
  void quit() {
    qmp_->execute("quit", json::object(), exit_timeout);
    if (!wait_exit(exit_timeout)) {
      ::kill(pid_, SIGKILL);
      if (!wait_exit(command_timeout)) fail("baseline: QEMU did not exit after quit and SIGKILL");
    }
    if (console_thread_.joinable()) console_thread_.join();
  }

  std::string stderr_text() const {
    std::ifstream in(stderr_log_);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

 private:
  bool wait_exit(std::chrono::milliseconds timeout) {
    pollfd pfd{pidfd_.get(), POLLIN, 0};
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      const int ready = ::poll(&pfd, 1, remaining_ms(deadline));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) return false;
      reap();
      return true;
    }
  }

  void reap() {
    siginfo_t info{};
    while (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED) != 0 && errno == EINTR) {
    }
    live_baseline_pid = 0;
    pid_ = -1;
  }

  void console_loop() {
    std::string pending;
    std::array<char, 16 * 1024> chunk{};
    for (;;) {
      const ssize_t n = ::recv(console_fd_.get(), chunk.data(), chunk.size(), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // QEMU is gone
      const auto now = Clock::now();
      pending.append(chunk.data(), static_cast<std::size_t>(n));
      std::size_t start = 0;
      for (auto newline = pending.find('\n'); newline != std::string::npos;
           newline = pending.find('\n', start)) {
        std::string_view line(pending.data() + start, newline - start);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        guest_.on_line(line, now);
        start = newline + 1;
      }
      pending.erase(0, start);
    }
  }

  GuestLines& guest_;
  fs::path stderr_log_;
  pid_t pid_ = -1;
  FdGuard pidfd_;
  FdGuard qmp_fd_;
  FdGuard console_fd_;
  FdGuard virtio_console_fd_;  // hvc0: held open, not read
  std::unique_ptr<RawQmp> qmp_;
  std::thread console_thread_;
};

// ---- measurements
// --------------------------------------------------------------------------------

struct Samples {
  std::vector<double> values;
  void add(double v) { values.push_back(v); }
  double median() const {
    if (values.empty()) return 0;
    auto v = values;
    std::sort(v.begin(), v.end());
    const auto n = v.size();
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }
  double min() const {
    return values.empty() ? 0 : *std::min_element(values.begin(), values.end());
  }
  double max() const {
    return values.empty() ? 0 : *std::max_element(values.begin(), values.end());
  }
};

// Per side (vmm = 0, baseline = 1), per operation, in milliseconds.
struct Results {
  std::map<std::string, std::array<Samples, 2>> ops;
  std::vector<std::string> order;
  void add(const std::string& op, int side, double ms) {
    if (ops.find(op) == ops.end()) order.push_back(op);
    ops[op][static_cast<std::size_t>(side)].add(ms);
  }
};

struct Options {
  fs::path kernel;
  fs::path initrd;
  int rounds = 5;
  int pause_iterations = 20;
};

struct Size {
  std::string label;
  vmm::Size memory;
};

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "vmm-bench-lifecycle-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) fail("mkdtemp: {}", errno_text());
    path_ = pattern;
    std::lock_guard lock(temp_dir_mutex);
    temp_dir_to_remove = path_;
  }
  ~TempDir() {
    std::lock_guard lock(temp_dir_mutex);
    std::error_code ec;
    fs::remove_all(path_, ec);
    temp_dir_to_remove.clear();
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Reads a file with plain read() into a buffer that is thrown away (like cat > /dev/null).
double read_file_ms(const fs::path& path) {
  const auto begin = Clock::now();
  FdGuard fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) fail("cannot open {}: {}", path.string(), errno_text());
  std::vector<char> buffer(1 << 20);
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("cannot read {}: {}", path.string(), errno_text());
    if (n == 0) break;
  }
  return ms_between(begin, Clock::now());
}

double file_mib(const fs::path& path) {
  std::error_code ec;
  const auto bytes = fs::file_size(path, ec);
  if (ec) fail("cannot stat {}: {}", path.string(), ec.message());
  return static_cast<double>(bytes) / (1 << 20);
}

// A vmm operation's future, bounded.
void await(std::future<vmm::Result<void>> operation, std::chrono::seconds timeout,
           std::string_view what) {
  if (operation.wait_for(timeout) != std::future_status::ready) {
    fail("vmm: {} did not complete within {} s", what, timeout.count());
  }
  if (auto result = operation.get(); !result) fail("vmm: {} failed: {}", what, result.error());
}

template <typename F>
double time_ms(F&& f) {
  const auto begin = Clock::now();
  f();
  return ms_between(begin, Clock::now());
}

// The qemu-system child of this process (vmm's), for the argv cross-check.
std::optional<std::vector<std::string>> child_qemu_argv() {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto open = text.find('('), close = text.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    if (text.compare(open + 1, 11, "qemu-system") != 0) continue;
    std::istringstream rest(text.substr(close + 1));
    std::string state;
    long ppid = 0;
    if (!(rest >> state >> ppid) || ppid != ::getpid()) continue;
    std::ifstream cmdline(entry.path() / "cmdline");
    std::string raw((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
    std::vector<std::string> argv;
    std::size_t start = 0;
    for (auto nul = raw.find('\0'); nul != std::string::npos; nul = raw.find('\0', start)) {
      argv.push_back(raw.substr(start, nul - start));
      start = nul + 1;
    }
    return argv;
  }
  return std::nullopt;
}

// ---- one side of one round
// -----------------------------------------------------------------------

struct Machine {
  Size size;
  std::shared_ptr<vmm::VirtualMachine> vm;
  GuestLines vmm_guest;
  GuestLines base_guest;
  std::vector<std::string> base_argv;  // without -S / -incoming defer
  bool argv_checked = false;
};

void vmm_round(Machine& m, const fs::path& dir, Results& results, const Options& options,
               bool first_size) {
  auto& vm = *m.vm;
  auto& guest = m.vmm_guest;
  const std::string& sz = m.size.label;
  guest.reset();
  const auto begin = Clock::now();
  await(vm.start(), boot_timeout, "start");
  const auto ready = guest.wait_ready(boot_timeout, "vmm");
  results.add("boot to ready, " + sz, 0, ms_between(begin, ready));
  if (!m.argv_checked) {
    auto expected = m.base_argv;
    expected.emplace_back("-S");
    const auto actual = child_qemu_argv();
    if (!actual) fail("argv check: cannot find vmm's QEMU process");
    if (*actual != expected) {
      fail("argv check: vmm runs `{}`, the baseline would run `{}`", fmt::join(*actual, " "),
           fmt::join(expected, " "));
    }
    m.argv_checked = true;
  }
  guest.wait_counter_above(0, guest_line_timeout, "vmm");

  if (first_size) {
    std::vector<double> pauses, resumes;
    for (int i = 0; i < options.pause_iterations; ++i) {
      std::this_thread::sleep_for(20ms);
      pauses.push_back(time_ms([&] { await(vm.pause(), command_timeout, "pause"); }));
      std::this_thread::sleep_for(20ms);
      resumes.push_back(time_ms([&] { await(vm.resume(), command_timeout, "resume"); }));
    }
    // Back to back (pause call -> resume acknowledged, no gap): what a caller that pauses
    // briefly sees, including any work an operation leaves behind for the next one.
    std::vector<double> pairs;
    for (int i = 0; i < options.pause_iterations; ++i) {
      std::this_thread::sleep_for(20ms);
      pairs.push_back(time_ms([&] {
        await(vm.pause(), command_timeout, "pause");
        await(vm.resume(), command_timeout, "resume");
      }));
    }
    Samples p{pauses}, r{resumes}, pr{pairs};
    results.add("pause (median of round)", 0, p.median());
    results.add("resume (median of round)", 0, r.median());
    results.add("pause + resume back to back (median of round)", 0, pr.median());
  }

  await(vm.pause(), command_timeout, "pause");
  const fs::path bundle = dir / ("vmm-" + sz + ".bundle");
  std::error_code ec;
  fs::remove_all(bundle, ec);
  const double save_ms =
      time_ms([&] { await(vm.save(bundle), std::chrono::seconds(300), "save"); });
  results.add("save, " + sz, 0, save_ms);
  results.add("save, " + sz + ", vs. baseline + fsync", 0, save_ms);
  const fs::path state_file = bundle / "state.qemu";
  results.add("state file MiB, " + sz, 0, file_mib(state_file));
  results.add("read state file, " + sz, 0, read_file_ms(state_file));
  const long saved_at = guest.counter();
  await(vm.stop(), command_timeout, "stop");

  results.add("restore to running, " + sz, 0, time_ms([&] {
                await(vm.restore(bundle), std::chrono::seconds(300), "restore");
                await(vm.resume(), command_timeout, "resume after restore");
              }));
  guest.wait_counter_above(saved_at, guest_line_timeout, "vmm after restore");
  results.add("stop (running), " + sz, 0,
              time_ms([&] { await(vm.stop(), command_timeout, "stop"); }));
  fs::remove_all(bundle, ec);
}

void base_round(Machine& m, const fs::path& dir, Results& results, const Options& options,
                bool first_size) {
  auto& guest = m.base_guest;
  const std::string& sz = m.size.label;
  const fs::path log = dir / "qemu-stderr.log";
  guest.reset();
  auto with_stderr = [&](RawQemu& q, auto&& body) {
    try {
      body();
    } catch (const Failure& e) {
      fail("{}; QEMU stderr: {}", e.what(), q.stderr_text());
    }
  };

  std::optional<RawQemu> qemu;
  {
    const auto begin = Clock::now();
    auto argv = m.base_argv;
    argv.emplace_back("-S");
    qemu.emplace(std::move(argv), log, guest);
    with_stderr(*qemu, [&] {
      qemu->negotiate();
      qemu->qmp().execute("cont");
    });
    const auto ready = guest.wait_ready(boot_timeout, "baseline");
    results.add("boot to ready, " + sz, 1, ms_between(begin, ready));
  }
  guest.wait_counter_above(0, guest_line_timeout, "baseline");
  auto& qmp = qemu->qmp();

  if (first_size) {
    std::vector<double> pauses, resumes;
    for (int i = 0; i < options.pause_iterations; ++i) {
      std::this_thread::sleep_for(20ms);
      pauses.push_back(time_ms([&] { qmp.execute("stop"); }));
      std::this_thread::sleep_for(20ms);
      resumes.push_back(time_ms([&] { qmp.execute("cont"); }));
    }
    std::vector<double> pairs;
    for (int i = 0; i < options.pause_iterations; ++i) {
      std::this_thread::sleep_for(20ms);
      pairs.push_back(time_ms([&] {
        qmp.execute("stop");
        qmp.execute("cont");
      }));
    }
    Samples p{pauses}, r{resumes}, pr{pairs};
    results.add("pause (median of round)", 1, p.median());
    results.add("resume (median of round)", 1, r.median());
    results.add("pause + resume back to back (median of round)", 1, pr.median());
  }

  qmp.execute("stop");
  const fs::path state_file = dir / ("base-" + sz + ".state");
  ::unlink(state_file.c_str());
  FdGuard file;
  const double save_ms = time_ms([&] {
    file.reset(::open(state_file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (file.get() < 0) fail("baseline: cannot create {}: {}", state_file.string(), errno_text());
    qmp.execute("migrate-set-parameters", {{"max-bandwidth", 1LL << 40}});
    qmp.execute("getfd", {{"fdname", "state"}}, command_timeout, file.get());
    qmp.reset_migration_status();
    qmp.execute("migrate", {{"uri", "fd:state"}});
    const auto status = qmp.wait_migration(migration_timeout);
    if (status != "completed") fail("baseline: save ended {}", status);
  });
  results.add("save, " + sz, 1, save_ms);
  // QEMU does not sync the file; vmm's save does (the bundle is durable when save completes).
  // Timed apart, and shown as a second comparison.
  const double fsync_ms = time_ms([&] {
    if (::fsync(file.get()) != 0) fail("baseline: fsync: {}", errno_text());
  });
  results.add("fsync state file (baseline only), " + sz, 1, fsync_ms);
  results.add("save, " + sz + ", vs. baseline + fsync", 1, save_ms + fsync_ms);
  file.reset();
  results.add("state file MiB, " + sz, 1, file_mib(state_file));
  results.add("read state file, " + sz, 1, read_file_ms(state_file));
  const long saved_at = guest.counter();
  qemu->quit();
  qemu.reset();

  results.add("restore to running, " + sz, 1, time_ms([&] {
                FdGuard in(::open(state_file.c_str(), O_RDONLY | O_CLOEXEC));
                if (in.get() < 0)
                  fail("baseline: cannot open {}: {}", state_file.string(), errno_text());
                auto argv = m.base_argv;
                argv.insert(argv.end(), {"-S", "-incoming", "defer"});
                qemu.emplace(std::move(argv), log, guest);
                with_stderr(*qemu, [&] {
                  qemu->negotiate();
                  qemu->qmp().execute("getfd", {{"fdname", "state"}}, command_timeout, in.get());
                  in.reset();
                  qemu->qmp().reset_migration_status();
                  qemu->qmp().execute("migrate-incoming", {{"uri", "fd:state"}});
                  const auto status = qemu->qmp().wait_migration(migration_timeout);
                  if (status != "completed") fail("baseline: restore ended {}", status);
                  qemu->qmp().execute("cont");
                });
              }));
  guest.wait_counter_above(saved_at, guest_line_timeout, "baseline after restore");
  results.add("stop (running), " + sz, 1, time_ms([&] { qemu->quit(); }));
  qemu.reset();
  ::unlink(state_file.c_str());
}

// ---- output
// --------------------------------------------------------------------------------------

std::string first_line_of(const std::string& command) {
  std::string text;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    std::array<char, 512> line{};
    if (std::fgets(line.data(), static_cast<int>(line.size()), pipe) != nullptr) text = line.data();
    ::pclose(pipe);
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text.empty() ? "unknown" : text;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

std::string format_ms(double ms) {
  if (ms >= 100) return fmt::format("{:.0f} ms", ms);
  if (ms >= 1) return fmt::format("{:.1f} ms", ms);
  return fmt::format("{:.3f} ms", ms);
}

std::string cell(const Samples& s) {
  return fmt::format("{} ({}–{})", format_ms(s.median()), format_ms(s.min()), format_ms(s.max()));
}

[[noreturn]] void usage(std::string_view problem) {
  std::fprintf(stderr,
               "lifecycle: %.*s\nusage: lifecycle --kernel FILE --initrd FILE [--rounds N] "
               "[--pause-iterations N]\n",
               static_cast<int>(problem.size()), problem.data());
  std::exit(2);
}

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) usage(fmt::format("{} needs a value", flag));
    const std::string value = argv[++i];
    if (flag == "--kernel")
      options.kernel = value;
    else if (flag == "--initrd")
      options.initrd = value;
    else if (flag == "--rounds")
      options.rounds = std::atoi(value.c_str());
    else if (flag == "--pause-iterations")
      options.pause_iterations = std::atoi(value.c_str());
    else
      usage(fmt::format("unknown flag {}", flag));
  }
  if (options.kernel.empty() || options.initrd.empty()) usage("--kernel and --initrd are required");
  if (options.rounds < 1 || options.pause_iterations < 1) usage("counts must be at least 1");
  std::error_code ec;
  for (const auto& file : {options.kernel, options.initrd}) {
    if (!fs::is_regular_file(file, ec)) usage(fmt::format("{} is not a file", file.string()));
  }
  return options;
}

int run(const Options& options) {
  TempDir dir;
  const std::string load_at_start = load_average();
  vmm::CreateOptions create;
  create.backend = vmm::Backend::qemu;
  auto host = vmm::qemu::probe_host(create.qemu);
  if (!host) fail("probe_host: {}", host.error());

  std::vector<std::unique_ptr<Machine>> machines;
  for (const Size& size :
       {Size{"256 MiB", vmm::Size::mib(256)}, Size{"1 GiB", vmm::Size::gib(1)}}) {
    auto m = std::make_unique<Machine>();
    m->size = size;
    auto config = vmm::VmConfig::builder()
                      .cpus(1)
                      .memory(size.memory)
                      .linux_boot(options.kernel, options.initrd, "console=ttyS0 quiet panic=-1")
                      .build();
    if (!config) fail("config: {}", config.error());
    vmm::CreateOptions vm_options = create;
    vm_options.working_directory = dir.path() / ("vmm-work-" + std::to_string(machines.size()));
    GuestLines* guest = &m->vmm_guest;
    vm_options.on_console_line = [guest](std::string_view line) {
      guest->on_line(line, Clock::now());
    };
    auto vm = vmm::VirtualMachine::create(*config, vm_options);
    if (!vm) fail("vmm create: {}", vm.error());
    m->vm = *vm;
    // The same config vmm runs (with its machine identifier), the same host facts and fds.
    vmm::qemu::QemuRuntimePaths paths;
    paths.qmp_fd = 3;
    paths.console_fd = 4;
    auto command_line = vmm::qemu::build_qemu_command_line(m->vm->config(), *host, paths);
    if (!command_line) fail("build_qemu_command_line: {}", command_line.error());
    m->base_argv = command_line->argv;
    machines.push_back(std::move(m));
  }

  Results results;
  for (int round = 0; round < options.rounds; ++round) {
    for (int side = 0; side < 2; ++side) {
      for (std::size_t i = 0; i < machines.size(); ++i) {
        const auto begin = Clock::now();
        if (side == 0) {
          vmm_round(*machines[i], dir.path(), results, options, i == 0);
        } else {
          base_round(*machines[i], dir.path(), results, options, i == 0);
        }
        std::fprintf(stderr, "round %d/%d %s %s: %.1f s\n", round + 1, options.rounds,
                     side == 0 ? "vmm" : "baseline", machines[i]->size.label.c_str(),
                     std::chrono::duration<double>(Clock::now() - begin).count());
      }
    }
  }
  machines.clear();  // vmm's VMs (stopped) released here

  fmt::print(
      "Lifecycle: vmm vs. QEMU driven directly (same argv, raw QMP); {} rounds, "
      "alternating vmm/baseline; pause and resume: median of {} calls per round (20 ms apart).\n\n",
      options.rounds, options.pause_iterations);
  fmt::print("| operation | vmm median (min–max) | baseline median (min–max) | ratio |\n");
  fmt::print("| --- | ---: | ---: | ---: |\n");
  for (const auto& op : results.order) {
    if (op.rfind("state file MiB", 0) == 0 || op.rfind("read state file", 0) == 0 ||
        op.rfind("fsync", 0) == 0) {
      continue;
    }
    const auto& s = results.ops[op];
    fmt::print("| {} | {} | {} | {:.3f} |\n", op, cell(s[0]), cell(s[1]),
               s[0].median() / s[1].median());
  }
  fmt::print(
      "\nState file (read with read() into a discarded buffer, page cache warm, as restore "
      "finds it):\n\n");
  fmt::print(
      "| guest | state file (vmm / baseline) | read time median (min–max) | read rate | "
      "restore ÷ read (vmm / baseline) | baseline fsync after save |\n");
  fmt::print("| --- | ---: | ---: | ---: | ---: | ---: |\n");
  for (const auto& m : {"256 MiB", "1 GiB"}) {
    const std::string sz = m;
    auto& sizes = results.ops["state file MiB, " + sz];
    auto& reads = results.ops["read state file, " + sz];
    Samples all;
    for (const auto& side : reads) {
      for (double v : side.values) all.add(v);
    }
    const double mib = (sizes[0].median() + sizes[1].median()) / 2;
    auto& restore = results.ops["restore to running, " + sz];
    fmt::print("| {} | {:.1f} / {:.1f} MiB | {} | {:.0f} MiB/s | {:.1f} / {:.1f} | {} |\n", sz,
               sizes[0].median(), sizes[1].median(), cell(all), mib / (all.median() / 1000),
               restore[0].median() / all.median(), restore[1].median() / all.median(),
               cell(results.ops["fsync state file (baseline only), " + sz][1]));
  }
  fmt::print(
      "\nMachine: {}; {} CPUs, {}; {}; acceleration {}; load average {} at start, {} at "
      "end.\n",
      first_line_of("qemu-system-x86_64 --version"), std::thread::hardware_concurrency(),
      first_line_of("sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo"),
      first_line_of("uname -sr"), vmm::to_string(host->acceleration), load_at_start,
      load_average());
  fmt::print("Targets: ratio <= 1.03 for boot, pause and resume; <= 1.05 for save and restore.\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const auto options = parse_options(argc, argv);
  start_signal_thread();  // before any other thread, so that all inherit the blocked mask
  try {
    return run(options);
  } catch (const Failure& e) {
    std::fprintf(stderr, "lifecycle: FAILED: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lifecycle: FAILED: %s\n", e.what());
    return 1;
  }
}
