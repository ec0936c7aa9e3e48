// The image cache. One directory per URL: files/<key>/ with the verified file, .entry.json (URL,
// digest, size, mtime, last use), the .lock that makes processes download it once, the partial
// download a later attempt resumes, and .converted.raw when a qcow2 was converted. The cache's
// own files start with '.', the downloaded one never does.
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "images/cache_files.hpp"
#include "images/catalog_internal.hpp"
#include "images/digest.hpp"
#include "runtime/posix.hpp"

namespace vmm::images {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using vmm::detail::quoted;

constexpr const char* entry_file = ".entry.json";
constexpr const char* raw_file = ".converted.raw";
constexpr const char* partial_file = ".download.part";
constexpr const char* lock_file = ".lock";

struct Entry {
  std::string url;
  std::string file;
  DigestAlgorithm algorithm = DigestAlgorithm::sha256;
  std::string digest;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t last_used = 0;  // seconds since the epoch
};

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string key_of(const std::string& url) {
  detail::Hasher hasher(DigestAlgorithm::sha256);
  hasher.update(url.data(), url.size());
  return hasher.finish_hex().substr(0, 24);
}

// The local file name: the URL's last component, restricted to harmless characters.
std::string local_name(const Asset& asset) {
  std::string name = detail::manifest_name_of(Asset{asset.url, {}, {}, {}});
  for (char& c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_')) c = '_';
  }
  if (name.empty() || name.front() == '.') name = "file" + name;
  return name;
}

std::int64_t mtime_ns(const struct stat& st) {
#if defined(__APPLE__)
  return static_cast<std::int64_t>(st.st_mtimespec.tv_sec) * 1000000000 + st.st_mtimespec.tv_nsec;
#else
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
#endif
}

std::optional<Entry> read_entry(const fs::path& dir) {
  std::ifstream in(dir / entry_file);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  const json j = json::parse(text.str(), nullptr, false);
  if (!j.is_object()) return std::nullopt;
  Entry e;
  try {
    e.url = j.at("url").get<std::string>();
    e.file = j.at("file").get<std::string>();
    e.algorithm = j.at("algorithm").get<std::string>() == "sha512" ? DigestAlgorithm::sha512
                                                                    : DigestAlgorithm::sha256;
    e.digest = j.at("digest").get<std::string>();
    e.size = j.at("size").get<std::uint64_t>();
    e.mtime_ns = j.at("mtime_ns").get<std::int64_t>();
    e.last_used = j.at("last_used").get<std::int64_t>();
  } catch (const json::exception&) {
    return std::nullopt;  // a damaged entry is a miss: the file is fetched again
  }
  if (e.file.find('/') != std::string::npos) return std::nullopt;
  return e;
}

Result<void> write_entry(const fs::path& dir, const Entry& e) {
  const json j = {{"url", e.url},       {"file", e.file},          {"algorithm", to_string(e.algorithm)},
                  {"digest", e.digest}, {"size", e.size},          {"mtime_ns", e.mtime_ns},
                  {"last_used", e.last_used}};
  return detail::write_file_atomically(dir / entry_file, j.dump(2) + "\n");
}

// The cached file if it is still what the entry says: size and mtime unchanged, or else its
// digest checked again (and the entry updated).
Result<bool> still_valid(const fs::path& dir, Entry& e) {
  const fs::path file = dir / e.file;
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return false;
  if (static_cast<std::uint64_t>(st.st_size) == e.size && mtime_ns(st) == e.mtime_ns) return true;
  auto digest = file_digest(file, e.algorithm);
  if (!digest) return std::move(digest).error();
  if (*digest != e.digest) return false;
  e.size = static_cast<std::uint64_t>(st.st_size);
  e.mtime_ns = mtime_ns(st);
  return true;
}

void remove_entry_files(const fs::path& dir) {
  std::error_code ignored;
  for (const auto& item : fs::directory_iterator(dir, ignored)) {
    if (item.path().filename() != lock_file) fs::remove_all(item.path(), ignored);
  }
}

}  // namespace

fs::path ImageCache::default_directory() {
  const char* home = std::getenv("HOME");
  const fs::path home_dir = home != nullptr && *home != '\0' ? fs::path(home) : fs::path("/tmp");
#if defined(__APPLE__)
  return home_dir / "Library" / "Caches" / "vmm";
#else
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg != nullptr && xdg[0] == '/') return fs::path(xdg) / "vmm";
  return home_dir / ".cache" / "vmm";
#endif
}

ImageCache::ImageCache(fs::path directory) : directory_(std::move(directory)) {}

Result<fs::path> ImageCache::fetch(const Asset& asset, const DownloadOptions& options) {
  const fs::path dir = directory_ / "files" / key_of(asset.url);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error(Errc::io, "create cache directory " + quoted(dir) + ": " + ec.message());
  auto lock = detail::FileLock::acquire(dir / lock_file, options.cancel);
  if (!lock) return std::move(lock).error();

  if (auto cached = read_entry(dir); cached && cached->url == asset.url) {
    auto valid = still_valid(dir, *cached);
    if (!valid) return std::move(valid).error();
    if (*valid) {
      cached->last_used = now_seconds();
      if (auto w = write_entry(dir, *cached); !w) return std::move(w).error();
      return dir / cached->file;
    }
    remove_entry_files(dir);  // changed on disk: fetched again
  }

  const auto manifest_name = detail::manifest_name_of(asset);
  auto manifest = download_text(asset.manifest_url, options);
  if (!manifest) return std::move(manifest).error();
  auto expected = find_in_manifest(*manifest, asset.manifest_kind, asset.manifest_url, manifest_name);
  if (!expected) return std::move(expected).error();

  const fs::path partial = dir / partial_file;
  if (auto got = download(asset.url, partial, options); !got) {
    // A partial download stays for the next attempt to resume, unless there is nothing to resume.
    std::error_code size_ec;
    if (got.error().code() == Errc::not_found || fs::file_size(partial, size_ec) == 0) {
      remove_entry_files(dir);
    }
    return std::move(got).error();
  }
  auto actual = file_digest(partial, expected->algorithm);
  if (!actual) return std::move(actual).error();
  if (*actual != expected->digest) {
    remove_entry_files(dir);
    return Error(Errc::io, asset.url + ": " + std::string(to_string(expected->algorithm)) +
                               " mismatch for \"" + manifest_name + "\": expected " +
                               expected->digest + " (" + asset.manifest_url + "), got " + *actual +
                               "; nothing was cached");
  }
  if (auto synced = detail::fsync_path(partial); !synced) return std::move(synced).error();
  Entry entry;
  entry.url = asset.url;
  entry.file = local_name(asset);
  entry.algorithm = expected->algorithm;
  entry.digest = expected->digest;
  fs::remove(dir / raw_file, ec);  // a conversion of an older file
  if (auto moved = detail::commit_file(partial, dir / entry.file); !moved) return std::move(moved).error();
  struct stat st {};
  if (::stat((dir / entry.file).c_str(), &st) != 0) {
    return vmm::detail::errno_error(Errc::io, "stat " + quoted(dir / entry.file));
  }
  entry.size = static_cast<std::uint64_t>(st.st_size);
  entry.mtime_ns = mtime_ns(st);
  entry.last_used = now_seconds();
  if (auto w = write_entry(dir, entry); !w) return std::move(w).error();
  return dir / entry.file;
}

Result<fs::path> ImageCache::raw_of(const fs::path& cached_qcow2) {
  const fs::path dir = cached_qcow2.parent_path();
  auto lock = detail::FileLock::acquire(dir / lock_file);
  if (!lock) return std::move(lock).error();
  const fs::path raw = dir / raw_file;
  std::error_code ec;
  if (fs::exists(raw, ec)) return raw;  // removed whenever the source is fetched again
  fs::path temporary = raw;
  temporary += ".tmp";
  fs::remove(temporary, ec);
  if (auto converted = disks::convert_qcow2_to_raw(cached_qcow2, temporary); !converted) {
    fs::remove(temporary, ec);
    return std::move(converted).error();
  }
  if (auto synced = detail::fsync_path(temporary); !synced) return std::move(synced).error();
  if (auto moved = detail::commit_file(temporary, raw); !moved) return std::move(moved).error();
  return raw;
}

Result<std::vector<CachedFile>> ImageCache::list() const {
  std::vector<CachedFile> files;
  std::error_code ec;
  const fs::path root = directory_ / "files";
  if (!fs::exists(root, ec)) return files;
  for (const auto& item : fs::directory_iterator(root, ec)) {
    auto entry = read_entry(item.path());
    if (!entry) continue;
    CachedFile file;
    file.path = item.path() / entry->file;
    file.url = entry->url;
    file.digest = std::string(to_string(entry->algorithm)) + ":" + entry->digest;
    file.size = entry->size;
    file.last_used = std::chrono::system_clock::time_point(std::chrono::seconds(entry->last_used));
    files.push_back(std::move(file));
  }
  if (ec) return Error(Errc::io, "list " + quoted(root) + ": " + ec.message());
  return files;
}

Result<std::vector<fs::path>> ImageCache::prune(std::chrono::hours unused_for) {
  std::vector<fs::path> removed;
  auto files = list();
  if (!files) return std::move(files).error();
  const auto limit = std::chrono::system_clock::now() - unused_for;
  for (const auto& file : *files) {
    if (file.last_used >= limit) continue;
    const fs::path dir = file.path.parent_path();
    // An entry in use by another process (its lock held) is left alone.
    auto lock = detail::FileLock::try_acquire(dir / lock_file);
    if (!lock) return std::move(lock).error();
    if (!lock->held()) continue;
    remove_entry_files(dir);
    removed.push_back(file.path);
  }
  return removed;
}

}  // namespace vmm::images
