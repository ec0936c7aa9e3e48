// vmm/images.hpp (opt-in): a catalog of guest images, verified downloads and a local cache.
//
//   auto image = vmm::images::prepare_image("debian-12", {.run_directory = dir});
//   // image->kernel, image->initrd, image->disk: verified, cached, converted to raw, cloned
//
// Light on purpose: no libcurl, OpenSSL or JSON types. Everything here may block on the
// network or the disk; call it before creating the VM, not from a VM callback.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vmm/arch.hpp"
#include "vmm/disks.hpp"
#include "vmm/error.hpp"

namespace vmm::images {

// The architecture names live in vmm/arch.hpp; these keep the images:: spelling working.
using vmm::Arch;
using vmm::host_arch;
using vmm::parse_arch;
using vmm::to_string;

// The format of a distribution's checksum manifest.
enum class ManifestKind {
  sha256sums,       // "<hex>  <file>" lines (GNU coreutils, also "<hex> *<file>")
  sha512sums,       // the same with SHA-512
  fedora_checksum,  // Fedora's CHECKSUM: "SHA256 (<file>) = <hex>" lines, maybe PGP-signed
};
std::string_view to_string(ManifestKind kind) noexcept;
enum class DigestAlgorithm { sha256, sha512 };
std::string_view to_string(DigestAlgorithm algorithm) noexcept;

// One file of an image and where its expected digest comes from.
struct Asset {
  std::string url;
  std::string manifest_url;
  ManifestKind manifest_kind = ManifestKind::sha256sums;
  // The file's name in the manifest; empty: the last path component of `url`.
  std::string manifest_name;
  friend bool operator==(const Asset&, const Asset&) = default;
};

enum class BootKind { linux_direct, efi };

struct ImageEntry {
  std::string name;  // "debian-12"
  Arch arch = Arch::x86_64;
  std::string description;
  BootKind boot = BootKind::efi;
  std::optional<Asset> kernel;  // linux_direct: both kernel and initrd
  std::optional<Asset> initrd;
  std::optional<Asset> disk;  // efi: required
  vmm::DiskFormat disk_format = vmm::DiskFormat::raw;
  std::string command_line;  // a kernel command line that suits the image (linux_direct)
  std::string origin;        // which catalog document defined it
  friend bool operator==(const ImageEntry&, const ImageEntry&) = default;
};

class Catalog {
 public:
  // The catalog the library ships (src/images/catalog.json).
  static Result<Catalog> builtin();
  // A catalog document; `origin` names it in errors ("$.images[2].disk.url: ...").
  static Result<Catalog> parse(std::string_view json, std::string_view origin);
  // builtin(), then every file of $VMM_IMAGE_CATALOG (':'-separated), then `files`, each
  // adding entries or replacing those with the same name and architecture.
  static Result<Catalog> load(const std::vector<std::filesystem::path>& files = {});

  // Adds `other`'s entries; an entry with the same name and arch replaces the older one.
  void merge(const Catalog& other);
  // The entry for "NAME" (host arch) or "NAME:ARCH"; not_found lists what the catalog has.
  Result<ImageEntry> find(std::string_view spec) const;
  Result<ImageEntry> find(std::string_view name, Arch arch) const;
  const std::vector<ImageEntry>& entries() const { return entries_; }

 private:
  std::vector<ImageEntry> entries_;
};

// ---- downloads -------------------------------------------------------------------------------

struct Progress {
  std::string url;
  std::uint64_t done = 0;                // bytes of the file on disk (resumed bytes included)
  std::optional<std::uint64_t> total;    // when the server says
  double bytes_per_second = 0;           // over this transfer
};

struct DownloadOptions {
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(30)};
  // The transfer fails when no byte arrives for this long.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
  // Attempts after a broken transfer, each resuming with a Range request.
  int retries = 3;
  // Called from the downloading thread; may be empty.
  std::function<void(const Progress&)> progress;
  // Set to true (from any thread) to cancel: the download ends with Errc::cancelled.
  const std::atomic<bool>* cancel = nullptr;
};

// Downloads `url` into `destination`, appending to what is already there (Range). A server that
// ignores the range restarts the file. Errors name the URL and the HTTP status or curl's reason.
Result<void> download(const std::string& url, const std::filesystem::path& destination,
                      const DownloadOptions& options = {});
// A small document (a checksum manifest) into memory, at most `limit` bytes.
Result<std::string> download_text(const std::string& url, const DownloadOptions& options = {},
                                  std::size_t limit = 16 * 1024 * 1024);

// ---- verification ---------------------------------------------------------------------------

struct ManifestEntry {
  std::string file;
  DigestAlgorithm algorithm = DigestAlgorithm::sha256;
  std::string digest;  // lower-case hex
  friend bool operator==(const ManifestEntry&, const ManifestEntry&) = default;
};
// Every entry of a manifest; a malformed line is invalid_config naming `origin` and the line.
Result<std::vector<ManifestEntry>> parse_manifest(std::string_view text, ManifestKind kind,
                                                  std::string_view origin);
// The entry for `file`, or not_found naming the manifest and the file.
Result<ManifestEntry> find_in_manifest(std::string_view text, ManifestKind kind,
                                       std::string_view origin, std::string_view file);
// The lower-case hex digest of a file (OpenSSL libcrypto; CommonCrypto on Apple).
Result<std::string> file_digest(const std::filesystem::path& file, DigestAlgorithm algorithm);

// ---- the cache ------------------------------------------------------------------------------

struct CachedFile {
  std::filesystem::path path;
  std::string url;
  std::string digest;  // "sha256:<hex>"
  std::uint64_t size = 0;
  std::chrono::system_clock::time_point last_used;
};

// Verified files keyed by URL, shared by processes: one download per file (a lock file), atomic
// entry (temporary file, fsync, rename), re-verified when its size or mtime changed.
class ImageCache {
 public:
  // $XDG_CACHE_HOME/vmm (else ~/.cache/vmm) on Linux, ~/Library/Caches/vmm on macOS.
  static std::filesystem::path default_directory();
  explicit ImageCache(std::filesystem::path directory = default_directory());
  const std::filesystem::path& directory() const { return directory_; }

  // The verified local copy of `asset`: from the cache, or downloaded, checked against its
  // manifest and then entered. A digest mismatch leaves nothing in the cache.
  Result<std::filesystem::path> fetch(const Asset& asset, const DownloadOptions& options = {});
  // A raw copy of a cached qcow2 file (qemu-img), cached next to it.
  Result<std::filesystem::path> raw_of(const std::filesystem::path& cached_qcow2);
  Result<std::vector<CachedFile>> list() const;
  // Removes entries not used for `unused_for`; returns the removed files.
  Result<std::vector<std::filesystem::path>> prune(std::chrono::hours unused_for);

 private:
  std::filesystem::path directory_;
};

// ---- one call for a VM ------------------------------------------------------------------------

struct PrepareOptions {
  std::optional<std::filesystem::path> cache_directory;  // default: ImageCache::default_directory()
  std::vector<std::filesystem::path> catalog_files;      // added after $VMM_IMAGE_CATALOG
  // Where this VM's clone of the disk goes (a directory that exists); required for disks.
  std::filesystem::path run_directory;
  DownloadOptions download;
};

struct PreparedImage {
  ImageEntry entry;
  std::optional<std::filesystem::path> kernel;
  std::optional<std::filesystem::path> initrd;
  std::optional<std::filesystem::path> disk;  // the VM's own raw clone, in run_directory
  std::optional<disks::CloneMethod> clone_method;
};

// Resolves "NAME[:ARCH]" in the catalog, fetches and verifies every asset through the cache,
// converts a qcow2 disk to raw (once, cached) and clones it into run_directory.
Result<PreparedImage> prepare_image(std::string_view spec, const PrepareOptions& options);

}  // namespace vmm::images
