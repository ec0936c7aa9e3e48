// vmm internal: a save's staging directory (see staging.hpp).
#include "snapshot/staging.hpp"

#include <utility>

#include "runtime/file_digest.hpp"
#include "snapshot/bundle.hpp"

namespace vmm::detail {

namespace fs = std::filesystem;

Result<StagingDirectory> StagingDirectory::create(const fs::path& bundle) {
  auto made = make_staging_directory(bundle);
  if (!made) return Unexpected(made.error());
  return StagingDirectory(std::move(*made), bundle);
}

StagingDirectory::StagingDirectory(StagingDirectory&& other) noexcept
    : path_(std::exchange(other.path_, {})), bundle_(std::move(other.bundle_)) {}

StagingDirectory& StagingDirectory::operator=(StagingDirectory&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::exchange(other.path_, {});
    bundle_ = std::move(other.bundle_);
  }
  return *this;
}

StagingDirectory::~StagingDirectory() { remove(); }

void StagingDirectory::remove() noexcept {
  if (path_.empty()) return;
  remove_staging_directory(path_);
  path_.clear();
}

Result<void> StagingDirectory::commit(SnapshotManifest manifest,
                                      std::optional<std::string> state_digest) {
  if (path_.empty()) {
    return make_error(Errc::io, "save: the staging directory of " + bundle_.string() +
                                    " is already gone");
  }
  // Engines that cannot hash while writing (the framework writes the file itself) cost one
  // read back here.
  Result<std::string> digest = state_digest
                                   ? Result<std::string>(std::move(*state_digest))
                                   : digest_file(path_ / manifest.state_file);
  if (!digest) {
    remove();
    return make_error(digest.error().code(), "save: " + digest.error().message());
  }
  manifest.digests = {{manifest.state_file, std::move(*digest)}};
  // commit_bundle removes the directory itself on failure; either way it is no longer ours.
  const fs::path staging = std::exchange(path_, {});
  return commit_bundle(staging, bundle_, manifest);
}

}  // namespace vmm::detail
