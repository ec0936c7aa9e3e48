// vmm internal: the staging directory of one save, as an object that owns it.
//
// A save's engine writes its state file into "<bundle>.tmp-XXXXXX" (see snapshot/bundle.hpp);
// this object is that directory's only owner. It is removed when the object goes away unless
// commit() moved it into place as the bundle, so no code path has to remember to clean up: a
// save the engine never answers (its Done handler, which holds this object, is dropped with the
// engine), a save completed early by an engine event, a failed commit all leave nothing behind.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "vmm/snapshot.hpp"

namespace vmm::detail {

class StagingDirectory {
 public:
  // Creates the staging directory next to `bundle` (normalized, see normalize_bundle_path).
  static Result<StagingDirectory> create(const std::filesystem::path& bundle);

  StagingDirectory(StagingDirectory&& other) noexcept;
  StagingDirectory& operator=(StagingDirectory&& other) noexcept;
  StagingDirectory(const StagingDirectory&) = delete;
  StagingDirectory& operator=(const StagingDirectory&) = delete;
  ~StagingDirectory();  // remove()

  const std::filesystem::path& path() const { return path_; }
  const std::filesystem::path& bundle() const { return bundle_; }

  // Removes the directory now (best effort); afterwards the object owns nothing. Used where a
  // caller must not see the directory any more once it learns of a failure.
  void remove() noexcept;

  // Blocking file work (reads, fsyncs, renames): callers run it off any hypervisor control
  // thread. Records the state file's digest in `manifest` (`state_digest` when the engine
  // computed it while writing, otherwise by reading the file back), then commits the bundle
  // with commit_bundle(): on success the directory *is* the bundle and is no longer owned; on
  // failure it is removed and an older bundle is left as it was. Errors start with "save: ".
  Result<void> commit(SnapshotManifest manifest, std::optional<std::string> state_digest);

 private:
  StagingDirectory(std::filesystem::path path, std::filesystem::path bundle)
      : path_(std::move(path)), bundle_(std::move(bundle)) {}

  std::filesystem::path path_;  // empty: owns nothing
  std::filesystem::path bundle_;
};

}  // namespace vmm::detail
