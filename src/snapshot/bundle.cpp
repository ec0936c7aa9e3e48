// vmm internal: snapshot bundle directories on disk.
#include "snapshot/bundle.hpp"

#include <fcntl.h>
#include <stdio.h>   // rename, renameat2
#include <stdlib.h>  // mkdtemp
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>
#include <utility>
#include <string>
#include <system_error>
#include <vector>

#include "snapshot/manifest.hpp"

namespace vmm::detail {

namespace fs = std::filesystem;

namespace {

Unexpected io_error(const std::string& what, const fs::path& path, int err) {
  return make_error(Errc::io, "save: " + what + " " + path.string() + ": " + std::strerror(err));
}

fs::path parent_of(const fs::path& bundle) {
  return bundle.has_parent_path() ? bundle.parent_path() : fs::path(".");
}

// mkdtemp on "<bundle><infix>XXXXXX".
Result<fs::path> make_unique_directory(const fs::path& bundle, const char* infix) {
  std::string pattern = bundle.string() + infix + "XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) {
    const int err = errno;
    return io_error("cannot create a directory next to", bundle, err);
  }
  return fs::path(buffer.data());
}

Result<void> fsync_path(const fs::path& path, bool directory) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : 0));
  if (fd < 0) {
    const int err = errno;
    return io_error("cannot open", path, err);
  }
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return io_error("cannot flush", path, err);
  return {};
}

Result<void> write_file_durably(const fs::path& path, const std::string& content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    return io_error("cannot create", path, err);
  }
  std::size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return io_error("cannot write", path, err);
    }
    written += static_cast<std::size_t>(n);
  }
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return io_error("cannot flush", path, err);
  return {};
}

// Puts `staging` at `bundle`, which exists. Leaves the old bundle in `staging`'s place (after
// an exchange) or under an ".old-" name; returns where the old one is now.
Result<fs::path> replace_existing(const fs::path& staging, const fs::path& bundle,
                                  ReplaceMode mode) {
#if defined(__linux__) && defined(RENAME_EXCHANGE)
  if (mode == ReplaceMode::exchange) {
    if (::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, bundle.c_str(), RENAME_EXCHANGE) == 0) {
      return staging;
    }
    // Filesystems without RENAME_EXCHANGE say EINVAL; old kernels ENOSYS: use two renames.
    if (errno != EINVAL && errno != ENOSYS) {
      const int err = errno;
      return io_error("cannot replace", bundle, err);
    }
  }
#else
  (void)mode;  // no atomic swap on this platform
#endif
  auto aside = make_unique_directory(bundle, ".old-");
  if (!aside) return aside;
  // rename() moves the old bundle onto the empty directory mkdtemp reserved for it.
  if (::rename(bundle.c_str(), aside->c_str()) != 0) {
    const int err = errno;
    std::error_code ignored;
    fs::remove(*aside, ignored);
    return io_error("cannot move aside", bundle, err);
  }
  if (::rename(staging.c_str(), bundle.c_str()) != 0) {
    const int err = errno;
    ::rename(aside->c_str(), bundle.c_str());  // put the old bundle back
    return io_error("cannot move the new bundle to", bundle, err);
  }
  return aside;
}

std::mutex injected_mutex;
std::optional<Error> injected_failure;

std::function<void()> injected_hook;

std::optional<Error> take_injected_failure() {
  std::function<void()> hook;
  {
    std::lock_guard lock(injected_mutex);
    hook = std::exchange(injected_hook, nullptr);
  }
  if (hook) hook();
  std::lock_guard lock(injected_mutex);
  return std::exchange(injected_failure, std::nullopt);
}

}  // namespace

void fail_next_commit_for_testing(Error error) {
  std::lock_guard lock(injected_mutex);
  injected_failure = std::move(error);
}

void on_next_commit_for_testing(std::function<void()> hook) {
  std::lock_guard lock(injected_mutex);
  injected_hook = std::move(hook);
}

fs::path normalize_bundle_path(const fs::path& bundle) {
  fs::path normal = bundle.lexically_normal();
  if (!normal.has_filename() && normal.has_parent_path() && normal != normal.root_path()) {
    normal = normal.parent_path();
  }
  return normal;
}

Result<void> check_bundle_target(const fs::path& bundle) {
  if (!bundle.has_filename() || bundle.filename() == "." || bundle.filename() == "..") {
    return make_error(Errc::invalid_config,
                      "save: " + bundle.string() + " does not name a bundle directory");
  }
  std::error_code ec;
  const fs::path parent = parent_of(bundle);
  if (!fs::is_directory(parent, ec)) {
    const bool exists = fs::exists(parent, ec);
    return make_error(Errc::io, "save: the parent " + parent.string() + " of " + bundle.string() +
                                    (exists ? " is not a directory" : " does not exist"));
  }
  const auto status = fs::symlink_status(bundle, ec);
  if (!fs::exists(status)) return {};
  if (!fs::is_directory(status)) {
    return make_error(Errc::io, "save: " + bundle.string() + " exists and is not a directory");
  }
  if (fs::exists(bundle / manifest_file_name, ec) || fs::is_empty(bundle, ec)) return {};
  return make_error(Errc::io, "save: " + bundle.string() +
                                  " exists and is not a snapshot bundle (no manifest.json); "
                                  "refusing to replace it");
}

Result<fs::path> make_staging_directory(const fs::path& bundle) {
  return make_unique_directory(bundle, ".tmp-");
}

Result<void> commit_bundle(const fs::path& staging, const fs::path& bundle,
                           const SnapshotManifest& manifest) {
  auto fail = [&](Unexpected error) -> Result<void> {
    remove_staging_directory(staging);
    return error;
  };
  const fs::path state_file = staging / manifest.state_file;
  std::error_code ec;
  if (!fs::is_regular_file(state_file, ec)) {
    return fail(make_error(Errc::backend, "save: the backend wrote no state file " +
                                              state_file.string()));
  }
  if (auto r = fsync_path(state_file, false); !r) return fail(Unexpected(r.error()));
  if (auto injected = take_injected_failure()) return fail(Unexpected(std::move(*injected)));
  if (auto r = write_file_durably(staging / manifest_file_name, manifest_to_json(manifest)); !r) {
    return fail(Unexpected(r.error()));
  }
  if (auto r = fsync_path(staging, true); !r) return fail(Unexpected(r.error()));

  // Checked again: something may have appeared at `bundle` while the hypervisor was saving.
  if (auto r = check_bundle_target(bundle); !r) return fail(Unexpected(r.error()));
  if (auto moved = move_into_place(staging, bundle); !moved) return fail(Unexpected(moved.error()));
  return {};
}

Result<void> move_into_place(const fs::path& staging, const fs::path& bundle, ReplaceMode mode) {
  std::error_code ec;
  fs::path old;
  if (fs::exists(fs::symlink_status(bundle, ec))) {
    auto moved = replace_existing(staging, bundle, mode);
    if (!moved) return Unexpected(moved.error());
    old = *moved;
  } else if (::rename(staging.c_str(), bundle.c_str()) != 0) {
    const int err = errno;
    return io_error("cannot move the new bundle to", bundle, err);
  }
  // The rename is only durable once the parent directory is flushed.
  auto flushed = fsync_path(parent_of(bundle), true);
  if (!old.empty()) remove_staging_directory(old);
  return flushed;
}

void remove_staging_directory(const fs::path& staging) noexcept {
  std::error_code ignored;
  fs::remove_all(staging, ignored);
}

}  // namespace vmm::detail
