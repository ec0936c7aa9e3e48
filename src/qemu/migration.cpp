// vmm internal (QEMU backend): save/restore streaming — migrating the guest's state out through
// a pipe to the state file, the held copy of the last save, leaving postmigrate, and restoring
// with an incoming migration.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "qemu/core.hpp"
#include "qemu/state_file_writer.hpp"
#include "vmm/logging.hpp"

namespace vmm::qemu {

using namespace std::chrono_literals;
using nlohmann::json;

Result<void> Core::do_save(const std::filesystem::path& state_file) {
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
Result<void> Core::copy_last_save(const std::filesystem::path& state_file) {
  if (auto copied = copy_state_file(last_save_.get(), state_file); !copied) return copied;
  saved_digest_ = last_save_digest_;
  return {};
}

// `cont` then `stop`: the only way out of postmigrate. The guest runs for the moment
// between the two commands. The STOP is ours, like a pause's: no internal-error check.
Result<void> Core::leave_postmigrate() {
  pausing_ = true;
  auto result = do_simple("cont", "save");
  if (result) result = do_simple("stop", "save");
  pausing_ = false;
  if (result) needs_reactivation_ = false;
  return result;
}

void Core::forget_last_save() {
  last_save_.reset();
  last_save_digest_.clear();
}

// A save failed. If QEMU died meanwhile the VM is lost, not merely "not saved": the listener
// hears of it before the save's Done, so that the VM is in `error` when the completion runs
// (the Done's result is then dropped by the core).
Error Core::died_during_save(Error error) {
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

Result<void> Core::do_restore(const std::filesystem::path& state_file) {
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

void Core::reset_migration_status() {
  std::lock_guard lock(mutex_);
  migration_status_.clear();
}

// Waits for the MIGRATION event that ends the stream; "" if QEMU went away or time ran out.
std::string Core::wait_for_migration() {
  const auto generation = run_->generation;
  QmpClient* qmp = run_->qmp.get();
  const auto finished = [&] {
    return closing_ || generation_ != generation || migration_ended(migration_status_) ||
           qmp->close_reason().has_value();
  };
  std::unique_lock lock(mutex_);
  events_.wait_for(lock, migration_timeout, finished);
  return migration_ended(migration_status_) ? migration_status_ : std::string{};
}

Result<void> Core::migrate_out(StateFileWriter& writer) {
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

}  // namespace vmm::qemu
