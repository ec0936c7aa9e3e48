// vmm internal (QEMU backend): save/restore streaming as one object. Migration streams the
// guest's state out of a Run through a pipe to the state file (StateFileWriter), holds the
// last save's file while the guest has not run since (a second save copies it), knows when QEMU
// sits in postmigrate and must be reactivated, and feeds a state file to a Run started with
// `-incoming defer`. It owns no thread: the engine's worker calls it.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "vmm/error.hpp"
#include "vmm/file_descriptor.hpp"

namespace vmm::qemu {

class Run;
class StateFileWriter;

// Whether a MIGRATION event's status ends the stream (successfully or not).
inline bool migration_ended(std::string_view status) {
  return status == "completed" || status == "failed" || status == "cancelled";
}

class Migration {
 public:
  // Saves the guest's state (the run is paused) to `state_file`; on success its digest is
  // saved_digest(). On failure the caller checks whether QEMU died meanwhile.
  Result<void> save(Run& run, const std::filesystem::path& state_file);

  // Opens a state file for restore(), before the current run is torn down.
  static Result<FileDescriptor> open_state_file(const std::filesystem::path& state_file);
  // Streams `file` into `run` (started with incoming = true). The error message is the
  // operation's report, without QEMU's last words (the caller adds them).
  Result<void> restore(Run& run, FileDescriptor file, const std::filesystem::path& state_file);

  // The guest ran or its run ended: the last save no longer describes it, and postmigrate
  // (which `cont` also leaves) is over.
  void forget();

  // The digest of the state file the last successful save wrote (read inside its Done).
  std::optional<std::string> saved_digest() const { return saved_digest_; }

 private:
  Result<void> leave_postmigrate(Run& run);
  Result<void> migrate_out(Run& run, StateFileWriter& writer);

  // Since the last successful save the guest has not run: its state file (held open, so a
  // replaced or deleted bundle does not matter) and digest.
  FileDescriptor last_save_;
  std::string last_save_digest_;
  bool needs_reactivation_ = false;          // QEMU is in postmigrate (a migration was started)
  std::optional<std::string> saved_digest_;  // of the save whose Done is being delivered
};

}  // namespace vmm::qemu
