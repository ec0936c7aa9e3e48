// vmm internal (QEMU backend): one QEMU run (run.hpp) — launching QEMU with its virtiofsd
// daemons, EFI store, console thread and QMP connection, recording its events, reporting its
// failure, and tearing it down in the destructor.
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

#include "qemu/run.hpp"

#include "config/efi_store.hpp"
#include "qemu/confinement.hpp"
#include "qemu/virtiofsd.hpp"
#include "qemu/migration.hpp"
#include "runtime/console_pump.hpp"
#include "runtime/posix.hpp"
#include "vmm/logging.hpp"

namespace vmm::qemu {

using namespace std::chrono_literals;
using nlohmann::json;

// Shared POSIX helpers (errno errors, socket pairs, listening sockets, join-or-detach):
// src/runtime/posix.hpp.

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
namespace {

// Makes the EFI variable store when the config asks for one that does not exist yet. The rule
// is the shared one (src/config/efi_store.hpp); creating means copying OVMF's template.
Result<void> prepare_efi_store(const VmConfig& config, const QemuHostFacts& host) {
  const auto* efi = std::get_if<EfiBoot>(&config.boot());
  if (efi == nullptr) return {};
  std::error_code ec;
  auto action = detail::efi_store_action(*efi, std::filesystem::exists(efi->variable_store, ec));
  if (!action) return Error(action.error().code(), "boot: " + action.error().message());
  if (*action == detail::EfiStoreAction::open) return {};
  if (!host.ovmf_vars) {
    return make_error(Errc::not_found,
                      fmt::format("boot: the EFI variable store {} does not exist and this "
                                  "host has no OVMF template to create it from",
                                  efi->variable_store.string()));
  }
  std::filesystem::copy_file(*host.ovmf_vars, efi->variable_store, ec);
  if (ec) {
    return make_error(Errc::io, fmt::format("boot: cannot create the EFI variable store {}: {}",
                                            efi->variable_store.string(), ec.message()));
  }
  std::filesystem::permissions(efi->variable_store, std::filesystem::perms::owner_read |
                                                        std::filesystem::perms::owner_write,
                               ec);
  return {};
}

}  // namespace

Run::Run(const RunSpec& spec, std::uint64_t generation) : spec_(spec), generation_(generation) {}

Result<std::unique_ptr<Run>> Run::start(const RunSpec& spec, bool incoming,
                                        std::uint64_t generation, RunHooks hooks) {
  std::unique_ptr<Run> run(new Run(spec, generation));
  if (auto prepared = prepare_efi_store(spec.config, spec.host); !prepared) {
    return std::move(prepared).error();
  }
  if (auto opened = run->open_serial_file(); !opened) return std::move(opened).error();
  // Opened once for the launch: virtiofsd and QEMU enter the same cgroup and namespace.
  auto confinement = open_confinement(spec.isolation);
  if (!confinement) return std::move(confinement).error();
  if (auto started = run->start_virtiofsd(*confinement); !started) {
    return std::move(started).error();
  }

  auto qmp_pair = detail::stream_socketpair();
  if (!qmp_pair) return std::move(qmp_pair).error();
  auto console_pair = detail::stream_socketpair();
  if (!console_pair) return std::move(console_pair).error();
  auto virtio_console_pair = detail::stream_socketpair();
  if (!virtio_console_pair) return std::move(virtio_console_pair).error();
  std::vector<int> inherit = {(*qmp_pair)[1].get(), (*console_pair)[1].get(),
                              (*virtio_console_pair)[1].get()};
  for (const auto& network : spec.config.networks()) {
    if (const auto* fd = std::get_if<FileHandleNetwork>(&network.attachment)) {
      inherit.push_back(fd->fd);
    }
  }
  // Console ports: after the networks, as the plan numbers them (command_line/console_ports.cpp).
  std::vector<std::array<FileDescriptor, 2>> port_pairs;
  for (std::size_t i = 0; i < spec.config.console_ports().size(); ++i) {
    auto pair = detail::stream_socketpair();
    if (!pair) return std::move(pair).error();
    inherit.push_back((*pair)[1].get());
    port_pairs.push_back(std::move(*pair));
  }
  for (const auto& path : spec.paths.network_local_sockets) {
    if (!path.empty()) ::unlink(path.c_str());  // a stale one from an earlier run
  }

  auto argv = spec.command_line.argv;
  argv.emplace_back("-S");  // wait for `cont` (or the incoming migration) under our control
  if (incoming) {
    argv.emplace_back("-incoming");
    argv.emplace_back("defer");
  }
  auto qemu = Process::spawn(argv, inherit, std::move(hooks.on_exit), confinement->setup(),
                             std::move(hooks.on_stderr));
  if (!qemu) return std::move(qemu).error();
  run->qemu_ = std::move(*qemu);
  run->on_unexpected_stop_ = std::move(hooks.on_unexpected_stop);
  run->qmp_socket_ = std::move((*qmp_pair)[0]);
  run->console_ = std::move((*console_pair)[0]);
  run->virtio_console_ = std::move((*virtio_console_pair)[0]);
  for (auto& pair : port_pairs) run->console_ports_.push_back(std::move(pair[0]));
  run->console_wake_.reset(::eventfd(0, EFD_CLOEXEC));
  run->interrupt_.reset(::eventfd(0, EFD_CLOEXEC));
  run->start_console_thread(std::move(hooks.on_console_line));
  return run;
}

Result<void> Run::open_serial_file() {
  const auto* file = std::get_if<SerialToFile>(&spec_.config.serial());
  if (file == nullptr) return {};
  serial_file_.reset(::open(file->path.c_str(),
                            O_WRONLY | O_CREAT | O_CLOEXEC | (file->append ? O_APPEND : O_TRUNC),
                            0644));
  if (!serial_file_) {
    const int error = errno;
    return detail::errno_error(Errc::io, fmt::format("serial: cannot open {}", file->path.string()),
                               error);
  }
  return {};
}

// Directory shares: virtiofsd gets a listening socket we created (--fd), so QEMU's connect
// cannot race virtiofsd's start-up. It is confined as virtiofsd.hpp describes.
Result<void> Run::start_virtiofsd(const LaunchConfinement& confinement) {
  for (std::size_t i = 0; i < spec_.config.shares().size(); ++i) {
    const auto& share = spec_.config.shares()[i];
    auto listener = detail::listen_unix(spec_.paths.virtiofs_sockets[i]);
    if (!listener) return std::move(listener).error();
    const auto& directory = std::get<SharedDirectory>(share.source).directory;
    auto daemon = Process::spawn(virtiofsd_arguments(*spec_.host.virtiofsd, directory),
                                 {listener->get()}, {}, confinement.setup());
    if (!daemon) return std::move(daemon).error();
    virtiofsd_.push_back(std::move(*daemon));
  }
  return {};
}

void Run::start_console_thread(std::function<void(std::string_view)> on_line) {
  const auto* to_fd = std::get_if<SerialToFd>(&spec_.config.serial());
  detail::ConsolePumpFds fds;
  fds.consoles = {console_.get(), virtio_console_.get()};
  fds.wake = console_wake_.get();
  fds.copy = serial_file_ ? serial_file_.get() : to_fd != nullptr ? to_fd->fd : -1;
  fds.input = to_fd != nullptr ? to_fd->fd : -1;
  fds.input_to = spec_.command_line.input_console == ConsoleDevice::virtio ? fds.consoles[1]
                                                                           : fds.consoles[0];
  console_thread_ = std::thread([fds, on_line = std::move(on_line)] {
    detail::pump_consoles(fds, [&](std::string_view line) {
      if (on_line) on_line(line);
    });
  });
}

Result<void> Run::connect() {
  auto qmp = QmpClient::connect(
      std::move(qmp_socket_),
      [this](const std::string& event, const json& data) { on_event(event, data); }, {},
      greeting_timeout);
  if (!qmp) return last_words(fmt::format("QEMU did not start ({})", qmp.error().message()));
  qmp_ = std::move(*qmp);
  // MIGRATION events tell save/restore when the stream is done, without polling.
  if (auto events = qmp_->execute(
          "migrate-set-capabilities",
          {{"capabilities", json::array({{{"capability", "events"}, {"state", true}}})}},
          command_timeout);
      !events) {
    return last_words(
        fmt::format("QEMU refused migration events ({})", events.error().message()));
  }
  return {};
}

Run::~Run() {
  exit_expected_ = true;
  if (qemu_ && !qemu_->exit_status()) qemu_->terminate();
  qmp_.reset();
  if (console_wake_) {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(console_wake_.get(), &one, sizeof one);
  }
  detail::join_or_detach(console_thread_);
  for (auto& daemon : virtiofsd_) daemon->terminate();
  virtiofsd_.clear();
  qemu_.reset();
  for (const auto& path : spec_.paths.network_local_sockets) {
    if (!path.empty()) ::unlink(path.c_str());
  }
  for (const auto& path : spec_.paths.virtiofs_sockets) ::unlink(path.c_str());
}

void Run::interrupt() {
  if (qemu_) qemu_->kill(SIGTERM);
  if (interrupt_) {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(interrupt_.get(), &one, sizeof one);
  }
}

void Run::read_events() {
  if (qmp_) qmp_->read_available();
}

Result<json> Run::execute(std::string_view command, const json& arguments,
                          std::chrono::milliseconds timeout, int pass_fd) {
  if (!qmp_) return make_error(Errc::backend, fmt::format("{}: QEMU is not connected", command));
  auto reply = qmp_->execute(command, arguments, timeout, pass_fd);
  if (!reply) return with_exit_reason(std::move(reply).error());
  return reply;
}

// Worker thread, inside QmpClient's calls: record what later decisions depend on.
void Run::on_event(const std::string& event, const json& data) {
  // Serialized only when logged: STOP and RESUME lie on the path of every pause and resume.
  if (vmm::logger()->should_log(spdlog::level::debug)) {
    vmm::logger()->debug("qemu: event {} {}", event, data.dump());
  }
  if (event == "SHUTDOWN") {
    events_.shutdown_reason = data.value("reason", "");
    events_.shutdown_by_guest = data.value("guest", false);
  } else if (event == "GUEST_PANICKED") {
    events_.shutdown_by_guest = true;
  } else if (event == "MIGRATION") {
    events_.migration_status = data.value("status", "");
  }
  // A STOP caused by our own `stop` (pause) needs no query-status behind it: that round trip
  // would hold up the next operation (a resume right after a pause waits for it). QEMU sends
  // STOP before the reply to `stop`, so the flag is still set here.
  if (event == "STOP" && !own_stop_ && on_unexpected_stop_) on_unexpected_stop_();
}

std::string Run::wait_for_migration(std::chrono::milliseconds timeout) {
  if (qmp_) {
    qmp_->wait_until([&] { return migration_ended(events_.migration_status); }, timeout,
                     interrupt_.get());
  }
  return migration_ended(events_.migration_status) ? events_.migration_status : std::string{};
}

void Run::drain_events(std::chrono::milliseconds timeout) {
  if (qmp_) qmp_->wait_closed(timeout);
}

bool Run::qmp_closed() const { return qmp_ && qmp_->close_reason().has_value(); }

Error Run::last_words(std::string what) {
  std::string message = std::move(what);
  if (qemu_) {
    exit_expected_ = true;
    // If QEMU is exiting on its own, its exit status and stderr explain why.
    if (auto status = qemu_->wait(exit_drain_timeout)) {
      message += fmt::format("; QEMU {}", status->describe());
    }
    message = with_stderr(std::move(message), qemu_->stderr_tail());
  }
  return Error(Errc::backend, std::move(message));
}

Error Run::with_exit_reason(Error error) {
  if (!qemu_) return error;
  // A closed QMP connection usually means QEMU is exiting: give it a moment to be reaped.
  if (auto status = qemu_->wait(qmp_closed() ? 500ms : 0ms)) {
    return Error(Errc::backend,
                 with_stderr(fmt::format("{}; QEMU {}", error.message(), status->describe()),
                             qemu_->stderr_tail()));
  }
  return error;
}

}  // namespace vmm::qemu
