// vmm internal (QEMU backend): writes a save's state file from a pipe that QEMU's migration
// stream goes into.
//
// QEMU gets the pipe's write end, never the file: a vmm thread drains the pipe, feeds each
// chunk to the digest the manifest records (so the state file is never read back), writes it to
// the file and starts writeback every few MiB (sync_file_range), so that the final fsync waits
// only for the tail. Consequences the engine relies on:
//  - every host I/O failure (ENOSPC, EIO, EFBIG) is seen by vmm, reported as `io` with the path;
//  - on a write failure the thread closes the read end, so QEMU's next write fails (EPIPE)
//    and the migration ends promptly instead of streaming into nothing;
//  - on failure `abandon()` truncates and unlinks the file and closes vmm's only descriptor:
//    the space is free when the save reports its failure, whatever QEMU is still doing.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "vmm/error.hpp"

namespace vmm::qemu {

class StateFileWriter {
 public:
  // Creates `path` (which must not exist) and starts the draining thread.
  static Result<std::unique_ptr<StateFileWriter>> create(const std::filesystem::path& path);
  ~StateFileWriter();  // abandon() unless finish() succeeded
  StateFileWriter(const StateFileWriter&) = delete;
  StateFileWriter& operator=(const StateFileWriter&) = delete;

  // The pipe's write end, to hand to QEMU (getfd). Close it with close_qemu_end() once QEMU
  // has its own copy: the stream ends when the last write end is closed.
  int qemu_end() const;
  void close_qemu_end();

  // A write failure the draining thread met, if any (io, naming the file).
  std::optional<Error> write_error() const;

  // After QEMU reported the stream complete: waits (at most `timeout`) for QEMU to close its
  // end, then fsyncs the file. Returns the digest ("xxh3-128:<hex>") of everything written.
  Result<std::string> finish(std::chrono::milliseconds timeout);

  // Stops draining, then truncates, unlinks and closes the file. Idempotent.
  void abandon() noexcept;

 private:
  struct State;
  explicit StateFileWriter(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Creates `path` (which must not exist) as a copy of the open file `from`: copy_file_range (a
// reflink or in-kernel copy where the filesystem can), through a buffer across filesystems.
// On failure the file is truncated and removed; io errors name it.
Result<void> copy_state_file(int from, const std::filesystem::path& path);

}  // namespace vmm::qemu
