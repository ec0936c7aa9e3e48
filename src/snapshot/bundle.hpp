// vmm internal: writing a snapshot bundle directory so that a failed save never damages an
// older bundle at the same path.
//
// A save writes everything into a staging directory "<bundle>.tmp-XXXXXX" next to the target
// (same filesystem, so renames are atomic), fsyncs it, then swaps it into place. On Linux the
// swap is one renameat2(RENAME_EXCHANGE); elsewhere (or on a filesystem without it) the old
// bundle is renamed aside first, leaving a short window in which <bundle> does not exist but
// the old one is intact under "<bundle>.old-XXXXXX" (and is moved back if the second rename
// fails).
#pragma once

#include <filesystem>
#include <functional>

#include "vmm/snapshot.hpp"

namespace vmm::detail {

// The bundle path without a trailing separator ("/x/b/" -> "/x/b").
std::filesystem::path normalize_bundle_path(const std::filesystem::path& bundle);

// Whether `bundle` may be written: its parent directory exists, and anything already at
// `bundle` is a directory that is empty or holds a manifest.json (vmm never replaces a
// directory that is not one of its bundles). io / invalid_config errors name the path.
Result<void> check_bundle_target(const std::filesystem::path& bundle);

// Creates the staging directory next to `bundle`; snapshot/staging.hpp owns it.
Result<std::filesystem::path> make_staging_directory(const std::filesystem::path& bundle);

// Writes manifest.json into `staging` (which already holds the state file), makes both and the
// directory durable, and moves `staging` into place as `bundle`. On failure `staging` is
// removed and an existing bundle is left as it was.
Result<void> commit_bundle(const std::filesystem::path& staging,
                           const std::filesystem::path& bundle, const SnapshotManifest& manifest);

// How an existing bundle is replaced: `exchange` tries the atomic swap first and falls back
// to `two_renames` where the platform or filesystem lacks it; tests force the fallback.
enum class ReplaceMode { exchange, two_renames };

// Moves `staging` to `bundle`, replacing what is there; on success the old bundle is gone,
// on failure it is still at `bundle` and `staging` is untouched.
Result<void> move_into_place(const std::filesystem::path& staging,
                             const std::filesystem::path& bundle,
                             ReplaceMode mode = ReplaceMode::exchange);

// Tests only: the next commit_bundle() fails with `error` where it would write the manifest
// (after the state file is complete), as a failing disk would.
void fail_next_commit_for_testing(Error error);
// Tests only: the next commit_bundle() calls `hook` at that same point, on the thread that
// commits (tests block in it to show what the commit does and does not hold up).
void on_next_commit_for_testing(std::function<void()> hook);

// Best effort, for failure paths.
void remove_staging_directory(const std::filesystem::path& staging) noexcept;

}  // namespace vmm::detail
