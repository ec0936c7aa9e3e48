// vmm internal (QEMU backend): one QEMU run — launching QEMU (with its virtiofsd daemons, EFI
// store, console thread and QMP connection), reporting its failure, and tearing it down.
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "config/efi_store.hpp"
#include "qemu/core.hpp"
#include "vmm/logging.hpp"

namespace vmm::qemu {

using namespace std::chrono_literals;
using nlohmann::json;

// Shared POSIX helpers (socket addresses, join-or-detach): src/runtime/posix.hpp.
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
Result<void> Core::launch(bool incoming) {
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
  // Console ports: after the networks, as the plan numbers them (console_ports.cpp).
  std::vector<std::array<FileDescriptor, 2>> port_pairs;
  for (std::size_t i = 0; i < config_.console_ports().size(); ++i) {
    auto pair = stream_socketpair();
    if (!pair) return std::move(pair).error();
    inherit.push_back((*pair)[1].get());
    port_pairs.push_back(std::move(*pair));
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
    console_ports_.clear();
    for (auto& pair : port_pairs) {
      pair[1].reset();
      console_ports_.push_back(std::move(pair[0]));
    }
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

Result<void> Core::prepare_efi_store() {
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

void Core::start_console_thread() {
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

void Core::console_loop(const detail::ConsolePumpFds& fds) {
  detail::pump_consoles(fds, [this](std::string_view line) {
    if (!options_.on_console_line) return;
    std::lock_guard gate(console_gate_);
    if (!closing_) options_.on_console_line(line);
  });
}

// Stops everything of the current run (if any). Worker thread (or ~Core) only.
void Core::teardown_run() {
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
    console_ports_.clear();
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
Error Core::fail_run(std::string what) {
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
Error Core::with_exit_reason(Error error) {
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

}  // namespace vmm::qemu
