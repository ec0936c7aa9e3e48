// vmm internal (QEMU backend): save/restore streaming (migration.hpp) — migrating the guest's
// state out through a pipe to the state file, the held copy of the last save, leaving
// postmigrate, and restoring with an incoming migration.
#include "qemu/migration.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "qemu/run.hpp"
#include "qemu/state_file_writer.hpp"

namespace vmm::qemu {

using nlohmann::json;

Result<void> Migration::save(Run& run, const std::filesystem::path& state_file) {
  saved_digest_.reset();
  // The guest has not run since the last save: its state file holds exactly this state.
  if (last_save_) {
    if (auto copied = copy_state_file(last_save_.get(), state_file); !copied) return copied;
    saved_digest_ = last_save_digest_;
    return {};
  }
  // A failed migration leaves QEMU in postmigrate, from which it refuses to migrate again.
  if (needs_reactivation_) {
    if (auto left = leave_postmigrate(run); !left) return left;
  }
  auto writer = StateFileWriter::create(state_file);
  if (!writer) return std::move(writer).error();
  if (auto result = migrate_out(run, **writer); !result) {
    (*writer)->abandon();
    return result;
  }
  auto digest = (*writer)->finish(command_timeout);
  if (!digest) return std::move(digest).error();
  last_save_.reset(::open(state_file.c_str(), O_RDONLY | O_CLOEXEC));
  last_save_digest_ = *digest;
  saved_digest_ = std::move(*digest);
  return {};
}

// `cont` then `stop`: the only way out of postmigrate. The guest runs for the moment
// between the two commands. The STOP is ours, like a pause's: no internal-error check.
Result<void> Migration::leave_postmigrate(Run& run) {
  run.set_own_stop(true);
  Result<void> result;
  if (auto cont = run.execute("cont"); !cont) {
    result = std::move(cont).error();
  } else if (auto stop = run.execute("stop"); !stop) {
    result = std::move(stop).error();
  }
  run.set_own_stop(false);
  if (result) needs_reactivation_ = false;
  return result;
}

void Migration::forget() {
  last_save_.reset();
  last_save_digest_.clear();
  needs_reactivation_ = false;
}

Result<FileDescriptor> Migration::open_state_file(const std::filesystem::path& state_file) {
  FileDescriptor file(::open(state_file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!file) {
    return make_error(errno == ENOENT ? Errc::not_found : Errc::io,
                      fmt::format("cannot open the state file {}: {}", state_file.string(),
                                  errno_text()));
  }
  return file;
}

Result<void> Migration::restore(Run& run, FileDescriptor file,
                                const std::filesystem::path& state_file) {
  auto& qmp = run.qmp();
  if (auto passed = qmp.execute("getfd", {{"fdname", "vmm-state"}}, command_timeout, file.get());
      !passed) {
    return make_error(Errc::backend, fmt::format("QEMU did not take the state file ({})",
                                                 passed.error().message()));
  }
  file.reset();
  run.reset_migration_status();
  if (auto incoming = qmp.execute("migrate-incoming", {{"uri", "fd:vmm-state"}}, command_timeout);
      !incoming) {
    return make_error(Errc::backend, fmt::format("QEMU refused the state file ({})",
                                                 incoming.error().message()));
  }
  const auto status = run.wait_for_migration(migration_timeout);
  if (status != "completed") {
    return make_error(Errc::backend,
                      fmt::format("QEMU could not restore the machine state from {} (migration "
                                  "{})",
                                  state_file.string(), status.empty() ? "did not finish" : status));
  }
  // With -S the guest stays paused after the incoming migration; resume() sends cont.
  return {};
}

Result<void> Migration::migrate_out(Run& run, StateFileWriter& writer) {
  // The default bandwidth cap (128 MiB/s) would make saving a large guest needlessly slow.
  if (auto set = run.execute("migrate-set-parameters", {{"max-bandwidth", 1LL << 40}}); !set) {
    return std::move(set).error();
  }
  // The stream travels through a pipe passed as a descriptor (getfd + fd: URI): no shell, no
  // quoting, no path, and vmm writes the file (state_file_writer.hpp).
  if (auto passed = run.execute("getfd", {{"fdname", "vmm-state"}}, command_timeout,
                                writer.qemu_end());
      !passed) {
    return std::move(passed).error();
  }
  writer.close_qemu_end();
  run.reset_migration_status();
  if (auto started = run.execute("migrate", {{"uri", "fd:vmm-state"}}); !started) {
    return std::move(started).error();
  }
  // From here QEMU leaves the VM in postmigrate, whatever the outcome.
  needs_reactivation_ = true;
  const auto status = run.wait_for_migration(migration_timeout);
  if (status == "completed") return {};
  // Our own write failure explains QEMU's (a broken pipe) better than QEMU can.
  if (auto failed = writer.write_error()) return *failed;
  std::string reason = status.empty() ? "did not finish" : status;
  if (auto query = run.execute("query-migrate")) {
    if (const auto desc = query->find("error-desc");
        desc != query->end() && desc->is_string()) {
      reason = desc->get<std::string>();
    }
  }
  return run.with_exit_reason(
      Error(Errc::backend, fmt::format("QEMU could not save the machine state: {}", reason)));
}

}  // namespace vmm::qemu
