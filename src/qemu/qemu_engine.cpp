#include "qemu/qemu_engine.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "config/access.hpp"
#include "config/efi_store.hpp"
#include "runtime/posix.hpp"
#include "runtime/console_pump.hpp"
#include "qemu/command_line.hpp"
#include "qemu/host.hpp"
#include "qemu/plan.hpp"
#include "qemu/process.hpp"
#include "qemu/qmp_client.hpp"
#include "qemu/state_file_writer.hpp"
#include "vmm/format.hpp"
#include "vmm/logging.hpp"

namespace vmm::qemu {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// Every wait is bounded. TCG start-up under load can take seconds before QMP answers.
constexpr auto greeting_timeout = 30s;
constexpr auto command_timeout = 10s;
constexpr auto quit_timeout = 5s;
constexpr auto migration_timeout = 300s;
constexpr auto exit_drain_timeout = 2s;

// Shared POSIX helpers (errno text, socket addresses, join-or-detach): src/runtime/posix.hpp.
std::string errno_text() { return std::strerror(errno); }

Result<std::array<FileDescriptor, 2>> stream_socketpair() {
  std::array<int, 2> fds{};
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds.data()) != 0) {
    return make_error(Errc::io, fmt::format("socketpair: {}", errno_text()));
  }
  return std::array<FileDescriptor, 2>{FileDescriptor(fds[0]), FileDescriptor(fds[1])};
}

Result<FileDescriptor> listen_unix(const std::filesystem::path& path) {
  auto address_or = detail::unix_socket_address(path);
  if (!address_or) return std::move(address_or).error();
  const sockaddr_un address = *address_or;
  const auto text = path.string();
  FileDescriptor fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return make_error(Errc::io, fmt::format("socket: {}", errno_text()));
  ::unlink(text.c_str());
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(fd.get(), 4) != 0) {
    return make_error(Errc::io, fmt::format("cannot listen on {}: {}", text, errno_text()));
  }
  return fd;
}

// Error messages stay on one line: QEMU's stderr lines are joined with "; " (the full text goes
// to the log).
std::string with_stderr(std::string message, const std::string& tail) {
  std::string joined;
  std::size_t begin = 0;
  while (begin < tail.size()) {
    std::size_t end = tail.find_first_of("\r\n", begin);
    if (end == std::string::npos) end = tail.size();
    if (end > begin) {
      if (!joined.empty()) joined += "; ";
      joined.append(tail, begin, end - begin);
    }
    begin = end + 1;
  }
  if (!joined.empty()) {
    vmm::logger()->warn("qemu: {}; QEMU's stderr:\n{}", message, tail);
    message += fmt::format("; stderr: {}", joined);
  }
  return message;
}

// One QEMU process and everything that lives exactly as long as it.
struct Run {
  std::uint64_t generation = 0;
  std::vector<std::unique_ptr<Process>> virtiofsd;
  std::unique_ptr<Process> qemu;
  std::unique_ptr<QmpClient> qmp;
  FileDescriptor console;        // our end of the guest's ttyS0
  FileDescriptor virtio_console; // our end of the guest's hvc0
  FileDescriptor console_wake;   // eventfd: tells the console thread to finish
  FileDescriptor serial_file;    // SerialToFile, opened per run
  std::thread console_thread;
  bool exit_expected = false;    // stop() or a reported failure owns the exit
};

class Core : public std::enable_shared_from_this<Core> {
 public:
  Core(VmConfig config, CreateOptions options, std::filesystem::path work_dir,
       QemuHostFacts host, QemuCommandLine command_line, QemuRuntimePaths paths)
      : config_(std::move(config)),
        options_(std::move(options)),
        work_dir_(std::move(work_dir)),
        host_(std::move(host)),
        command_line_(std::move(command_line)),
        paths_(std::move(paths)) {}

  ~Core() {
    // Only reached once the worker and console threads have let go (they hold references), or
    // on one of them as the last holder: never join the current thread.
    detail::join_or_detach(worker_);
    teardown_run();
  }

  void start_worker() {
    worker_ = std::thread([self = shared_from_this()] { self->worker_loop(); });
  }

  const VmConfig& config() const { return config_; }

  void set_listener(std::weak_ptr<detail::EngineListener> listener) {
    std::lock_guard lock(mutex_);
    listener_ = std::move(listener);
  }

  // Called by ~QemuEngine. After it returns no Done, listener or console callback starts.
  void shutdown() {
    closing_ = true;
    {
      std::lock_guard lock(mutex_);
      tasks_.clear();
      // SIGTERM is QEMU's orderly quit; an operation waiting on QMP then fails at once.
      if (live_qemu_ != nullptr) live_qemu_->kill(SIGTERM);
      work_ready_.notify_all();
      events_.notify_all();
    }
    const auto self = std::this_thread::get_id();
    bool on_engine_thread = self == worker_.get_id();
    {
      std::lock_guard lock(mutex_);
      on_engine_thread = on_engine_thread || self == console_thread_id_;
    }
    // Callbacks in progress on other threads finish before we return (the gates are recursive,
    // so this also works from inside a callback on this thread).
    { std::lock_guard gate(worker_gate_); }
    { std::lock_guard gate(console_gate_); }
    if (on_engine_thread) {
      // The worker tears the run down after its current task and then exits on its own; the
      // Core lives until it and the console thread have dropped their references. Joining here
      // could wait for ourselves (the worker joins the console thread in teardown).
      if (worker_.joinable()) worker_.detach();
    } else if (worker_.joinable()) {
      worker_.join();
    }
  }

  // Wakes waiters on events_; taking the mutex first means a waiter between its predicate
  // check and its wait cannot miss the notification.
  void notify_events() {
    std::lock_guard lock(mutex_);
    events_.notify_all();
  }

  // Notifies under the lock: once the worker can see the task it may run it, destroy the engine
  // from its Done and free the Core, so nothing here may touch the Core after unlocking.
  void post(std::function<void()> task) {
    std::lock_guard lock(mutex_);
    if (closing_) return;
    tasks_.push_back(std::move(task));
    work_ready_.notify_one();
  }

  // ---- operations (run on the worker) ----------------------------------------------------

  Result<void> do_start() {
    teardown_run();
    if (auto launched = launch(false); !launched) return launched;
    if (auto cont = run_->qmp->execute("cont", json::object(), command_timeout); !cont) {
      return fail_run(fmt::format("QEMU did not start the guest ({})", cont.error().message()));
    }
    return {};
  }

  Result<void> do_pause() {
    // QEMU sends STOP before the reply to `stop`, so the reader sees the flag set.
    pausing_ = true;
    auto result = do_simple("stop", "pause");
    pausing_ = false;
    return result;
  }

  Result<void> do_resume() {
    // The guest runs again: the last save no longer describes it.
    forget_last_save();
    needs_reactivation_ = false;  // `cont` also leaves postmigrate
    return do_simple("cont", "resume");
  }

  Result<void> do_simple(std::string_view command, std::string_view what) {
    if (!run_) return make_error(Errc::invalid_state, fmt::format("{}: QEMU is not running", what));
    auto reply = run_->qmp->execute(command, json::object(), command_timeout);
    if (!reply) return with_exit_reason(std::move(reply).error());
    return {};
  }

  Result<void> do_stop() {
    if (!run_) return {};
    run_->exit_expected = true;
    // quit answers before QEMU exits; the exit itself is what stop waits for.
    (void)run_->qmp->execute("quit", json::object(), quit_timeout);
    if (!run_->qemu->wait(quit_timeout)) {
      run_->qemu->kill(SIGKILL);
      run_->qemu->wait(command_timeout);
    }
    teardown_run();
    return {};
  }

  // The digest of the state file the last successful save wrote (read inside its Done).
  std::optional<std::string> saved_state_digest() const { return saved_digest_; }

  Result<void> do_save(const std::filesystem::path& state_file) {
    saved_digest_.reset();
    if (!run_) return make_error(Errc::invalid_state, "save: QEMU is not running");
    // The guest has not run since the last save: its state file holds exactly this state.
    if (last_save_) return copy_last_save(state_file);
    // A failed migration leaves QEMU in postmigrate, from which it refuses to migrate again.
    if (needs_reactivation_) {
      if (auto left = leave_postmigrate(); !left) return died_during_save(std::move(left).error());
    }
    auto writer = StateFileWriter::create(state_file);
    if (!writer) return std::move(writer).error();
    auto result = migrate_out(**writer);
    if (!result) {
      (*writer)->abandon();
      return died_during_save(std::move(result).error());
    }
    auto digest = (*writer)->finish(command_timeout);
    if (!digest) return died_during_save(std::move(digest).error());
    last_save_.reset(::open(state_file.c_str(), O_RDONLY | O_CLOEXEC));
    last_save_digest_ = *digest;
    saved_digest_ = std::move(*digest);
    return {};
  }

  // Copies the held state file instead of running the guest's migration again.
  Result<void> copy_last_save(const std::filesystem::path& state_file) {
    if (auto copied = copy_state_file(last_save_.get(), state_file); !copied) return copied;
    saved_digest_ = last_save_digest_;
    return {};
  }

  // `cont` then `stop`: the only way out of postmigrate. The guest runs for the moment
  // between the two commands. The STOP is ours, like a pause's: no internal-error check.
  Result<void> leave_postmigrate() {
    pausing_ = true;
    auto result = do_simple("cont", "save");
    if (result) result = do_simple("stop", "save");
    pausing_ = false;
    if (result) needs_reactivation_ = false;
    return result;
  }

  void forget_last_save() {
    last_save_.reset();
    last_save_digest_.clear();
  }

  // A save failed. If QEMU died meanwhile the VM is lost, not merely "not saved": the listener
  // hears of it before the save's Done, so that the VM is in `error` when the completion runs
  // (the Done's result is then dropped by the core).
  Error died_during_save(Error error) {
    if (!run_ || !run_->qemu) return error;
    // A closed QMP connection means QEMU is exiting: give it time to be reaped.
    const bool closed = run_->qmp && run_->qmp->close_reason().has_value();
    if (!run_->qemu->wait(closed ? exit_drain_timeout : 0ms)) return error;
    run_->exit_expected = true;
    vmm::logger()->warn("qemu: QEMU exited during a save: {}", error.message());
    teardown_run();
    deliver([&] {
      if (auto listener = this->listener()) listener->on_engine_failed(error);
    });
    return error;
  }

  Result<void> do_restore(const std::filesystem::path& state_file) {
    FileDescriptor file(::open(state_file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!file) {
      return make_error(errno == ENOENT ? Errc::not_found : Errc::io,
                        fmt::format("cannot open the state file {}: {}", state_file.string(),
                                    errno_text()));
    }
    teardown_run();
    if (auto launched = launch(true); !launched) return launched;
    auto& qmp = *run_->qmp;
    if (auto passed = qmp.execute("getfd", {{"fdname", "vmm-state"}}, command_timeout, file.get());
        !passed) {
      return fail_run(fmt::format("QEMU did not take the state file ({})", passed.error().message()));
    }
    file.reset();
    reset_migration_status();
    if (auto incoming = qmp.execute("migrate-incoming", {{"uri", "fd:vmm-state"}}, command_timeout);
        !incoming) {
      return fail_run(fmt::format("QEMU refused the state file ({})", incoming.error().message()));
    }
    const auto status = wait_for_migration();
    if (status != "completed") {
      return fail_run(fmt::format("QEMU could not restore the machine state from {} (migration "
                                  "{})",
                                  state_file.string(), status.empty() ? "did not finish" : status));
    }
    // With -S the guest stays paused after the incoming migration; resume() sends cont.
    return {};
  }

  Result<FileDescriptor> do_connect_vsock(std::uint32_t port) {
    if (!run_) return make_error(Errc::invalid_state, "connect_vsock: QEMU is not running");
    FileDescriptor fd(::socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return make_error(Errc::io, fmt::format("vsock socket: {}", errno_text()));
    sockaddr_vm address{};
    address.svm_family = AF_VSOCK;
    address.svm_cid = paths_.vsock_cid;
    address.svm_port = port;
    // The kernel bounds this connect (2 s by default) when the guest does not answer.
    int rc = 0;
    do {
      rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
      return make_error(Errc::io, fmt::format("vsock connect to guest port {}: {}", port,
                                              errno_text()));
    }
    return fd;
  }

  Result<Subscription> do_listen_vsock(std::uint32_t port,
                                       std::function<void(FileDescriptor)> on_connection) {
    FileDescriptor fd(::socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return make_error(Errc::io, fmt::format("vsock socket: {}", errno_text()));
    sockaddr_vm address{};
    address.svm_family = AF_VSOCK;
    address.svm_cid = VMADDR_CID_ANY;
    address.svm_port = port;
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(fd.get(), 16) != 0) {
      return make_error(Errc::io, fmt::format("vsock listen on port {}: {}", port, errno_text()));
    }
    FileDescriptor wake(::eventfd(0, EFD_CLOEXEC));
    if (!wake) return make_error(Errc::io, fmt::format("eventfd: {}", errno_text()));
    struct Acceptor {
      FileDescriptor listener;
      FileDescriptor wake;
      std::thread thread;
    };
    auto acceptor = std::make_shared<Acceptor>();
    acceptor->listener = std::move(fd);
    acceptor->wake = std::move(wake);
    std::weak_ptr<Core> weak = weak_from_this();
    // The thread holds the acceptor: cancelling from inside on_connection detaches it safely.
    acceptor->thread = std::thread([a = acceptor, weak, on_connection = std::move(on_connection)] {
      for (;;) {
        std::array<pollfd, 2> fds{{{a->listener.get(), POLLIN, 0}, {a->wake.get(), POLLIN, 0}}};
        if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) return;
        if (fds[1].revents != 0) return;
        if (fds[0].revents == 0) continue;
        FileDescriptor connection(::accept4(a->listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!connection) continue;
        const auto core = weak.lock();
        if (!core || core->closing_) return;
        std::lock_guard gate(core->console_gate_);
        if (!core->closing_) on_connection(std::move(connection));
      }
    });
    return Subscription([acceptor] {
      const std::uint64_t one = 1;
      [[maybe_unused]] const auto n = ::write(acceptor->wake.get(), &one, sizeof one);
      if (acceptor->thread.get_id() == std::this_thread::get_id()) {
        acceptor->thread.detach();  // cancelled from its own callback: it returns next
      } else if (acceptor->thread.joinable()) {
        acceptor->thread.join();
      }
    });
  }

  // Delivers a Done (or listener call) unless the engine is being destroyed.
  template <typename F>
  void deliver(F&& callback) {
    std::lock_guard gate(worker_gate_);
    if (!closing_) callback();
  }

  std::shared_ptr<detail::EngineListener> listener() {
    std::lock_guard lock(mutex_);
    return listener_.lock();
  }

 private:
  // ---- worker ----------------------------------------------------------------------------

  void worker_loop() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lock(mutex_);
        work_ready_.wait(lock, [&] { return closing_ || !tasks_.empty(); });
        if (closing_) break;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
    teardown_run();
  }

  // ---- one QEMU run ----------------------------------------------------------------------

  Result<void> launch(bool incoming) {
    auto run = std::make_unique<Run>();
    if (auto prepared = prepare_efi_store(); !prepared) return prepared;
    if (const auto* file = std::get_if<SerialToFile>(&config_.serial())) {
      run->serial_file.reset(::open(file->path.c_str(),
                                    O_WRONLY | O_CREAT | O_CLOEXEC |
                                        (file->append ? O_APPEND : O_TRUNC),
                                    0644));
      if (!run->serial_file) {
        return make_error(Errc::io, fmt::format("serial: cannot open {}: {}",
                                                file->path.string(), errno_text()));
      }
    }

    // Directory shares: virtiofsd gets a listening socket we created (--fd), so QEMU's connect
    // cannot race virtiofsd's start-up.
    for (std::size_t i = 0; i < config_.shares().size(); ++i) {
      const auto& share = config_.shares()[i];
      auto listener = listen_unix(paths_.virtiofs_sockets[i]);
      if (!listener) return std::move(listener).error();
      const auto& directory = std::get<SharedDirectory>(share.source).directory;
      auto daemon = Process::spawn({host_.virtiofsd->string(), "--fd=3", "-o",
                                    fmt::format("source={}", directory.string()), "-o",
                                    "cache=none"},
                                   {listener->get()});
      if (!daemon) return std::move(daemon).error();
      run->virtiofsd.push_back(std::move(*daemon));
    }

    auto qmp_pair = stream_socketpair();
    if (!qmp_pair) return std::move(qmp_pair).error();
    auto console_pair = stream_socketpair();
    if (!console_pair) return std::move(console_pair).error();
    auto virtio_console_pair = stream_socketpair();
    if (!virtio_console_pair) return std::move(virtio_console_pair).error();
    std::vector<int> inherit = {(*qmp_pair)[1].get(), (*console_pair)[1].get(),
                                (*virtio_console_pair)[1].get()};
    for (const auto& network : config_.networks()) {
      if (const auto* fd = std::get_if<FileHandleNetwork>(&network.attachment)) {
        inherit.push_back(fd->fd);
      }
    }
    for (const auto& path : paths_.network_local_sockets) {
      if (!path.empty()) ::unlink(path.c_str());  // a stale one from an earlier run
    }

    auto argv = command_line_.argv;
    argv.emplace_back("-S");  // wait for `cont` (or the incoming migration) under our control
    if (incoming) {
      argv.emplace_back("-incoming");
      argv.emplace_back("defer");
    }
    std::uint64_t generation = 0;
    {
      std::lock_guard lock(mutex_);
      generation = ++generation_;
      shutdown_reason_.clear();
      shutdown_by_guest_ = false;
      migration_status_.clear();
    }
    run->generation = generation;
    std::weak_ptr<Core> weak = weak_from_this();
    auto qemu = Process::spawn(argv, inherit, [weak, generation](ExitStatus status) {
      if (auto core = weak.lock()) {
        core->post([core = core.get(), generation, status] { core->handle_exit(generation, status); });
        core->notify_events();
      }
    });
    if (!qemu) return std::move(qemu).error();
    run->qemu = std::move(*qemu);
    (*qmp_pair)[1].reset();
    (*console_pair)[1].reset();
    (*virtio_console_pair)[1].reset();
    {
      std::lock_guard lock(mutex_);
      live_qemu_ = run->qemu.get();
    }

    run->console = std::move((*console_pair)[0]);
    run->virtio_console = std::move((*virtio_console_pair)[0]);
    run->console_wake.reset(::eventfd(0, EFD_CLOEXEC));
    run_ = std::move(run);
    start_console_thread();

    auto qmp = QmpClient::connect(
        std::move((*qmp_pair)[0]),
        [weak, generation](const std::string& event, const json& data) {
          if (auto core = weak.lock()) core->on_event(generation, event, data);
        },
        [weak](const Error&) {
          if (auto core = weak.lock()) core->notify_events();
        },
        greeting_timeout);
    if (!qmp) return fail_run(fmt::format("QEMU did not start ({})", qmp.error().message()));
    run_->qmp = std::move(*qmp);
    // MIGRATION events tell save/restore when the stream is done, without polling.
    if (auto events = run_->qmp->execute(
            "migrate-set-capabilities",
            {{"capabilities", json::array({{{"capability", "events"}, {"state", true}}})}},
            command_timeout);
        !events) {
      return fail_run(fmt::format("QEMU refused migration events ({})", events.error().message()));
    }
    return {};
  }

  Result<void> prepare_efi_store() {
    const auto* efi = std::get_if<EfiBoot>(&config_.boot());
    if (efi == nullptr) return {};
    std::error_code ec;
    // The rule is the shared one (src/config/efi_store.hpp); creating means copying OVMF's
    // variable-store template.
    auto action = detail::efi_store_action(*efi, std::filesystem::exists(efi->variable_store, ec));
    if (!action) return Error(action.error().code(), "boot: " + action.error().message());
    if (*action == detail::EfiStoreAction::open) return {};
    if (!host_.ovmf_vars) {
      return make_error(Errc::not_found,
                        fmt::format("boot: the EFI variable store {} does not exist and this "
                                    "host has no OVMF template to create it from",
                                    efi->variable_store.string()));
    }
    std::filesystem::copy_file(*host_.ovmf_vars, efi->variable_store, ec);
    if (ec) {
      return make_error(Errc::io, fmt::format("boot: cannot create the EFI variable store {}: {}",
                                              efi->variable_store.string(), ec.message()));
    }
    std::filesystem::permissions(efi->variable_store, std::filesystem::perms::owner_read |
                                                          std::filesystem::perms::owner_write,
                                 ec);
    return {};
  }

  void start_console_thread() {
    Run& run = *run_;
    const auto* to_fd = std::get_if<SerialToFd>(&config_.serial());
    detail::ConsolePumpFds fds;
    fds.consoles = {run.console.get(), run.virtio_console.get()};
    fds.wake = run.console_wake.get();
    fds.copy = run.serial_file ? run.serial_file.get() : to_fd != nullptr ? to_fd->fd : -1;
    fds.input = to_fd != nullptr ? to_fd->fd : -1;
    fds.input_to = command_line_.input_console == ConsoleDevice::virtio ? fds.consoles[1]
                                                                        : fds.consoles[0];
    run.console_thread = std::thread([self = shared_from_this(), fds] {
      self->console_loop(fds);
    });
    std::lock_guard lock(mutex_);
    console_thread_id_ = run.console_thread.get_id();
  }

  void console_loop(const detail::ConsolePumpFds& fds) {
    detail::pump_consoles(fds, [this](std::string_view line) {
      if (!options_.on_console_line) return;
      std::lock_guard gate(console_gate_);
      if (!closing_) options_.on_console_line(line);
    });
  }

  // Stops everything of the current run (if any). Worker thread (or ~Core) only.
  void teardown_run() {
    forget_last_save();
    needs_reactivation_ = false;
    if (!run_) return;
    std::unique_ptr<Run> run = std::move(run_);
    run->exit_expected = true;
    if (run->qemu && !run->qemu->exit_status()) run->qemu->terminate();
    {
      std::lock_guard lock(mutex_);
      if (live_qemu_ == run->qemu.get()) live_qemu_ = nullptr;
      ++generation_;  // late events of this run are ignored
    }
    run->qmp.reset();
    if (run->console_wake) {
      const std::uint64_t one = 1;
      [[maybe_unused]] const auto n = ::write(run->console_wake.get(), &one, sizeof one);
    }
    detail::join_or_detach(run->console_thread);
    for (auto& daemon : run->virtiofsd) daemon->terminate();
    run->virtiofsd.clear();
    run->qemu.reset();
    for (const auto& path : paths_.network_local_sockets) {
      if (!path.empty()) ::unlink(path.c_str());
    }
    for (const auto& path : paths_.virtiofs_sockets) ::unlink(path.c_str());
  }

  // The run failed during an operation: collect QEMU's last words, tear it down, and return
  // the error for the operation's Done (the operation owns the report, not the listener).
  Error fail_run(std::string what) {
    std::string message = std::move(what);
    if (run_ && run_->qemu) {
      run_->exit_expected = true;
      // If QEMU is exiting on its own, its exit status and stderr explain why.
      if (auto status = run_->qemu->wait(exit_drain_timeout)) {
        message += fmt::format("; QEMU {}", status->describe());
      }
      message = with_stderr(std::move(message), run_->qemu->stderr_tail());
    }
    teardown_run();
    return Error(Errc::backend, std::move(message));
  }

  // A QMP command failed: if QEMU died meanwhile, say so.
  Error with_exit_reason(Error error) {
    if (run_ && run_->qemu) {
      // A closed QMP connection usually means QEMU is exiting: give it a moment to be reaped.
      const bool closed = run_->qmp && run_->qmp->close_reason().has_value();
      if (auto status = run_->qemu->wait(closed ? 500ms : 0ms)) {
        return Error(Errc::backend,
                     with_stderr(fmt::format("{}; QEMU {}", error.message(), status->describe()),
                                 run_->qemu->stderr_tail()));
      }
    }
    return error;
  }

  // ---- save ------------------------------------------------------------------------------

  void reset_migration_status() {
    std::lock_guard lock(mutex_);
    migration_status_.clear();
  }

  // Waits for the MIGRATION event that ends the stream; "" if QEMU went away or time ran out.
  std::string wait_for_migration() {
    const auto generation = run_->generation;
    QmpClient* qmp = run_->qmp.get();
    const auto finished = [&] {
      return closing_ || generation_ != generation || migration_status_ == "completed" ||
             migration_status_ == "failed" || migration_status_ == "cancelled" ||
             qmp->close_reason().has_value();
    };
    std::unique_lock lock(mutex_);
    events_.wait_for(lock, migration_timeout, finished);
    return migration_status_ == "completed" || migration_status_ == "failed" ||
                   migration_status_ == "cancelled"
               ? migration_status_
               : std::string{};
  }

  Result<void> migrate_out(StateFileWriter& writer) {
    auto& qmp = *run_->qmp;
    // The default bandwidth cap (128 MiB/s) would make saving a large guest needlessly slow.
    if (auto set = qmp.execute("migrate-set-parameters", {{"max-bandwidth", 1LL << 40}},
                               command_timeout);
        !set) {
      return with_exit_reason(std::move(set).error());
    }
    // The stream travels through a pipe passed as a descriptor (getfd + fd: URI): no shell, no
    // quoting, no path, and vmm writes the file (state_file_writer.hpp).
    if (auto passed =
            qmp.execute("getfd", {{"fdname", "vmm-state"}}, command_timeout, writer.qemu_end());
        !passed) {
      return with_exit_reason(std::move(passed).error());
    }
    writer.close_qemu_end();
    reset_migration_status();
    if (auto started = qmp.execute("migrate", {{"uri", "fd:vmm-state"}}, command_timeout);
        !started) {
      return with_exit_reason(std::move(started).error());
    }
    // From here QEMU leaves the VM in postmigrate, whatever the outcome.
    needs_reactivation_ = true;
    const auto status = wait_for_migration();
    if (status == "completed") return {};
    // Our own write failure explains QEMU's (a broken pipe) better than QEMU can.
    if (auto failed = writer.write_error()) return *failed;
    std::string reason = status.empty() ? "did not finish" : status;
    if (auto query = qmp.execute("query-migrate", json::object(), command_timeout)) {
      if (const auto desc = query->find("error-desc");
          desc != query->end() && desc->is_string()) {
        reason = desc->get<std::string>();
      }
    }
    return with_exit_reason(
        Error(Errc::backend, fmt::format("QEMU could not save the machine state: {}", reason)));
  }

  // ---- events ----------------------------------------------------------------------------

  // QMP reader thread: record what waits depend on, queue what needs QMP round trips.
  void on_event(std::uint64_t generation, const std::string& event, const json& data) {
    vmm::logger()->debug("qemu: event {} {}", event, data.dump());
    {
      std::lock_guard lock(mutex_);
      if (generation != generation_) return;
      if (event == "SHUTDOWN") {
        shutdown_reason_ = data.value("reason", "");
        shutdown_by_guest_ = data.value("guest", false);
      } else if (event == "GUEST_PANICKED") {
        shutdown_by_guest_ = true;
      } else if (event == "MIGRATION") {
        migration_status_ = data.value("status", "");
      }
      events_.notify_all();
    }
    // A STOP caused by our own `stop` (pause) needs no query-status behind it: that round trip
    // would hold up the next operation (a resume right after a pause waits for it).
    if (event == "STOP" && !pausing_) {
      post([this, generation] { check_stopped(generation); });
    }
  }

  // After a STOP: QEMU stops the guest itself on an internal (KVM emulation) error and stays
  // alive, which nothing else would notice.
  void check_stopped(std::uint64_t generation) {
    if (!run_ || run_->generation != generation || !run_->qmp) return;
    auto status = run_->qmp->execute("query-status", json::object(), command_timeout);
    if (!status || status->value("status", "") != "internal-error") return;
    run_->exit_expected = true;
    std::string message = with_stderr("QEMU stopped the guest after an internal error",
                                      run_->qemu->stderr_tail());
    teardown_run();
    deliver([&] {
      if (auto listener = this->listener()) {
        listener->on_engine_failed(Error(Errc::backend, message));
      }
    });
  }

  void handle_exit(std::uint64_t generation, ExitStatus status) {
    if (!run_ || run_->generation != generation || run_->exit_expected) return;
    // Events sent just before the exit (SHUTDOWN) arrive on the socket before its end: read
    // up to the end so that the decision below sees them.
    if (run_->qmp) run_->qmp->wait_closed(exit_drain_timeout);
    bool by_guest = false;
    std::string reason;
    {
      std::lock_guard lock(mutex_);
      by_guest = shutdown_by_guest_;
      reason = shutdown_reason_;
    }
    const std::string tail = run_->qemu->stderr_tail();
    // The guest's last console lines are delivered before the stop is reported.
    teardown_run();
    if (by_guest && status.success()) {
      vmm::logger()->info("qemu: guest stopped ({})", reason);
      deliver([&] {
        if (auto listener = this->listener()) listener->on_guest_stopped();
      });
      return;
    }
    Error error(Errc::backend,
                with_stderr(fmt::format("QEMU exited unexpectedly: {}", status.describe()), tail));
    vmm::logger()->warn("qemu: {}", error.message());
    deliver([&] {
      if (auto listener = this->listener()) listener->on_engine_failed(error);
    });
  }

  VmConfig config_;
  CreateOptions options_;
  std::filesystem::path work_dir_;
  QemuHostFacts host_;
  QemuCommandLine command_line_;
  QemuRuntimePaths paths_;

  std::atomic<bool> closing_{false};
  std::atomic<bool> pausing_{false};  // a pause's `stop` is in flight
  // Held while a user callback runs; recursive so that the callback may destroy the engine.
  std::recursive_mutex worker_gate_;
  std::recursive_mutex console_gate_;

  std::mutex mutex_;  // guards everything below
  std::condition_variable work_ready_;
  std::condition_variable events_;
  std::deque<std::function<void()>> tasks_;
  std::weak_ptr<detail::EngineListener> listener_;
  Process* live_qemu_ = nullptr;
  std::thread::id console_thread_id_;
  std::uint64_t generation_ = 0;
  std::string shutdown_reason_;
  bool shutdown_by_guest_ = false;
  std::string migration_status_;

  std::thread worker_;
  std::unique_ptr<Run> run_;  // worker thread only
  // Worker thread only. Since the last successful save the guest has not run: its state file
  // (held open, so a replaced or deleted bundle does not matter) and digest.
  FileDescriptor last_save_;
  std::string last_save_digest_;
  bool needs_reactivation_ = false;  // QEMU is in postmigrate (a migration was started)
  std::optional<std::string> saved_digest_;  // of the save whose Done is being delivered
};

class QemuEngine final : public detail::Engine {
 public:
  explicit QemuEngine(std::shared_ptr<Core> core) : core_(std::move(core)) {}
  ~QemuEngine() override { core_->shutdown(); }
  QemuEngine(const QemuEngine&) = delete;
  QemuEngine& operator=(const QemuEngine&) = delete;

  std::string_view backend_name() const override { return to_string(Backend::qemu); }
  const VmConfig& config() const override { return core_->config(); }
  void set_listener(std::weak_ptr<detail::EngineListener> listener) override {
    core_->set_listener(std::move(listener));
  }

  void start(Done done) override {
    run(std::move(done), [](Core& c) { return c.do_start(); });
  }
  void pause(Done done) override {
    run(std::move(done), [](Core& c) { return c.do_pause(); });
  }
  void resume(Done done) override {
    run(std::move(done), [](Core& c) { return c.do_resume(); });
  }
  void stop(Done done) override {
    run(std::move(done), [](Core& c) { return c.do_stop(); });
  }
  void request_stop(Done done) override {
    // ACPI power button; the guest decides. Its poweroff then ends QEMU (on_guest_stopped).
    run(std::move(done), [](Core& c) { return c.do_simple("system_powerdown", "request_stop"); });
  }

  Result<void> check_save_support() const override {
    return check_qemu_save_support(core_->config());
  }
  std::string state_file_name() const override { return std::string(qemu::state_file_name); }
  std::optional<std::string> saved_state_digest() const override {
    return core_->saved_state_digest();
  }
  void save(const std::filesystem::path& state_file, Done done) override {
    run(std::move(done), [state_file](Core& c) { return c.do_save(state_file); });
  }
  void restore(const std::filesystem::path& state_file, Done done) override {
    run(std::move(done), [state_file](Core& c) { return c.do_restore(state_file); });
  }

  // Whether the VM has a vsock device is decided by the core (src/machine/virtual_machine_impl.cpp)
  // before it calls these.
  void connect_vsock(std::uint32_t port,
                     std::function<void(Result<FileDescriptor>)> done) override {
    core_->post([core = core_.get(), port, done = std::move(done)] {
      auto fd = core->do_connect_vsock(port);
      core->deliver([&] { done(std::move(fd)); });
    });
  }
  Result<Subscription> listen_vsock(std::uint32_t port,
                                    std::function<void(FileDescriptor)> on_connection) override {
    return core_->do_listen_vsock(port, std::move(on_connection));
  }

 private:
  template <typename Op>
  void run(Done done, Op op) {
    core_->post([core = core_.get(), done = std::move(done), op = std::move(op)]() mutable {
      auto result = op(*core);
      core->deliver([&] { done(std::move(result)); });
    });
  }

  std::shared_ptr<Core> core_;
};

}  // namespace
}  // namespace vmm::qemu

namespace vmm::detail {

Result<std::unique_ptr<Engine>> make_qemu_engine(const VmConfig& config,
                                                 const CreateOptions& options,
                                                 const std::filesystem::path& work_dir) {
  using namespace vmm::qemu;
  auto host = probe_host(options.qemu);
  if (!host) return std::move(host).error();

  VmConfig effective = config;
  if (effective.machine_identifier_generated() && effective.machine_identifier().size() != 16) {
    // QEMU's identifier is the SMBIOS UUID: report the one the guest will actually see.
    ConfigAccess::replace_machine_identifier(effective,
                                             machine_uuid_bytes(effective.machine_identifier()));
  }

  std::error_code ec;
  std::filesystem::create_directories(work_dir, ec);
  if (ec) {
    return make_error(Errc::io, fmt::format("cannot create the working directory {}: {}",
                                            work_dir.string(), ec.message()));
  }
  // Host facts the plan needs: which disks are block devices (host_device rather than file),
  // and a CID sequence number unique in this process.
  std::vector<bool> block_devices;
  for (const auto& disk : effective.disks()) {
    std::error_code block_ec;
    block_devices.push_back(std::filesystem::is_block_file(disk.path, block_ec));
  }
  static std::atomic<std::uint32_t> vsock_sequence{0};
  auto planned = plan_runtime_layout(
      effective, work_dir, std::move(block_devices),
      vsock_cid_for(static_cast<std::uint32_t>(::getpid()), vsock_sequence++));
  if (!planned) return std::move(planned).error();
  QemuRuntimePaths paths = std::move(*planned);
  if (const auto* efi = std::get_if<EfiBoot>(&effective.boot())) {
    // The rule is the shared one (src/config/efi_store.hpp); the store is made at launch.
    auto action = efi_store_action(*efi, std::filesystem::exists(efi->variable_store, ec));
    if (!action) return Error(action.error().code(), "boot: " + action.error().message());
  }

  auto command_line = build_qemu_command_line(effective, *host, paths);
  if (!command_line) return std::move(command_line).error();
  vmm::logger()->debug("qemu: {}", fmt::join(command_line->argv, " "));

  auto core = std::make_shared<Core>(std::move(effective), options, work_dir, std::move(*host),
                                     std::move(*command_line), std::move(paths));
  core->start_worker();
  return std::unique_ptr<Engine>(std::make_unique<QemuEngine>(std::move(core)));
}

}  // namespace vmm::detail
