// vmm-run's --image support, kept apart from its flag grammar: the request, one call that
// prepares the image (vmm::images::prepare_image does the work) and sets up the builder, and a
// progress printer (a bar on a terminal, plain lines otherwise).
#pragma once

#include <unistd.h>

#include <vmm/disks.hpp>
#include <vmm/images.hpp>
#include <vmm/vmm.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace vmm_examples {

struct ImageRequest {
  std::optional<std::string> spec;                 // --image NAME[:ARCH]
  std::optional<std::filesystem::path> user_data;  // --user-data FILE (a NoCloud seed)
  std::vector<std::filesystem::path> catalogs;     // --image-catalog FILE...
  std::optional<std::filesystem::path> cache;      // --image-cache DIR
};

inline constexpr std::string_view image_flags[] = {"--image", "--user-data", "--image-catalog",
                                                   "--image-cache"};

// Takes one of image_flags; false for any other flag.
inline bool take_image_flag(ImageRequest& request, std::string_view flag, const std::string& value) {
  if (flag == "--image") request.spec = value;
  else if (flag == "--user-data") request.user_data = value;
  else if (flag == "--image-catalog") request.catalogs.emplace_back(value);
  else if (flag == "--image-cache") request.cache = value;
  else return false;
  return true;
}

// "debian-12.qcow2  45% 12.0/26.7 MiB  5.1 MiB/s": redrawn in place on a terminal; elsewhere
// one line per 25% (and the last), so logs stay short.
inline void print_progress(const vmm::images::Progress& p) {
  static std::string last_url;
  static int last_quarter = -1;
  static auto last_draw = std::chrono::steady_clock::time_point();
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  const double mib = 1024.0 * 1024.0;
  const auto name = p.url.substr(p.url.rfind('/') + 1);
  const int percent = p.total && *p.total > 0 ? static_cast<int>(p.done * 100 / *p.total) : -1;
  if (p.url != last_url) {
    if (tty && !last_url.empty()) std::fputc('\n', stderr);
    last_url = p.url;
    last_quarter = -1;
  }
  const auto now = std::chrono::steady_clock::now();
  if (tty) {
    if (now - last_draw < std::chrono::milliseconds(100) && percent != 100) return;
    last_draw = now;
    const int filled = percent < 0 ? 0 : percent / 5;
    std::fprintf(stderr, "\r%-40.40s [%-20s] %3d%% %7.1f MiB %6.1f MiB/s", name.c_str(),
                 std::string(static_cast<std::size_t>(filled), '#').c_str(), percent < 0 ? 0 : percent,
                 static_cast<double>(p.done) / mib, p.bytes_per_second / mib);
    if (percent == 100) std::fputc('\n', stderr);
    return;
  }
  const int quarter = percent < 0 ? 0 : percent / 25;
  if (quarter == last_quarter) return;
  last_quarter = quarter;
  std::fprintf(stderr, "vmm-run: image: %s %d%% (%.1f MiB, %.1f MiB/s)\n", name.c_str(),
               percent < 0 ? 0 : percent, static_cast<double>(p.done) / mib, p.bytes_per_second / mib);
}

// This run's files (the disk clone, the seed, the EFI store), removed when the run ends.
class ImageRun {
 public:
  ImageRun() = default;
  ImageRun(ImageRun&& other) noexcept : directory_(std::move(other.directory_)) { other.directory_.clear(); }
  ImageRun& operator=(ImageRun&& other) noexcept {
    if (this != &other) {
      remove();
      directory_ = std::move(other.directory_);
      other.directory_.clear();
    }
    return *this;
  }
  ~ImageRun() { remove(); }
  ImageRun(const ImageRun&) = delete;
  ImageRun& operator=(const ImageRun&) = delete;
  void remove() noexcept {
    std::error_code ignored;
    if (!directory_.empty()) std::filesystem::remove_all(directory_, ignored);
    directory_.clear();
  }
  std::filesystem::path directory_;
};

// Reads a file whole, for --user-data and --cloud-init.
inline vmm::Result<std::string> read_whole_file(std::string_view flag, const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return vmm::make_error(vmm::Errc::not_found, std::string(flag) + ": cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A run directory for this run's files, removed when the ImageRun goes.
inline vmm::Result<ImageRun> make_run_directory() {
  ImageRun run;
  const auto base = std::filesystem::temp_directory_path() / "vmm-run-XXXXXX";
  std::string templ = base.string();
  if (::mkdtemp(templ.data()) == nullptr) {
    return vmm::make_error(vmm::Errc::io, "cannot create a run directory under " + base.parent_path().string());
  }
  run.directory_ = templ;
  return run;
}

// Writes a NoCloud seed into the run directory and returns the vfkit device that attaches it
// read-only.
inline vmm::Result<std::string> seed_device(const vmm::disks::CloudInitSeed& seed, const ImageRun& run) {
  const auto iso = run.directory_ / "seed.iso";
  if (auto written = vmm::disks::write_cloud_init_seed(seed, iso); !written) return std::move(written).error();
  return "virtio-blk,path=" + iso.string() + ",readonly";
}

// vfkit's --cloud-init FILE,...: files named user-data, meta-data and network-config (by their
// base name, as vfkit does) become a NoCloud seed attached read-only.
inline vmm::Result<std::string> cloud_init_device(const std::vector<std::filesystem::path>& files,
                                                  const ImageRun& run) {
  vmm::disks::CloudInitSeed seed;
  for (const auto& file : files) {
    auto text = read_whole_file("--cloud-init", file);
    if (!text) return std::move(text).error();
    const auto name = file.filename().string();
    if (name == "user-data") seed.user_data = std::move(*text);
    else if (name == "meta-data") seed.meta_data = std::move(*text);
    else if (name == "network-config") seed.network_config = std::move(*text);
    else return vmm::make_error(vmm::Errc::invalid_config,
                                "--cloud-init: " + file.string() +
                                    " is not named user-data, meta-data or network-config");
  }
  return seed_device(seed, run);
}

// Resolves, downloads, verifies, converts and clones the image, and returns the vfkit arguments
// that boot it: the linux bootloader (the image's command line unless `command_line` is given)
// or EFI, its disk, and the NoCloud seed when --user-data was given.
inline vmm::Result<std::vector<std::string>> prepare_image_args(const ImageRequest& request,
                                                                const std::optional<std::string>& command_line,
                                                                const ImageRun& run) {
  namespace images = vmm::images;
  images::PrepareOptions options;
  options.cache_directory = request.cache;
  options.catalog_files = request.catalogs;
  options.run_directory = run.directory_;
  options.download.progress = print_progress;
  auto image = images::prepare_image(*request.spec, options);
  if (!image) return std::move(image).error();
  if (image->clone_method) {
    std::fprintf(stderr, "vmm-run: image: %s:%s, disk cloned by %s\n", image->entry.name.c_str(),
                 std::string(images::to_string(image->entry.arch)).c_str(),
                 std::string(vmm::disks::to_string(*image->clone_method)).c_str());
  }
  std::vector<std::string> args;
  if (image->kernel) {
    std::string loader = "linux,kernel=" + image->kernel->string();
    if (image->initrd) loader += ",initrd=" + image->initrd->string();
    // Quoted: vfkit's --bootloader splitter keeps commas and spaces inside quotes.
    loader += ",cmdline=\"" + command_line.value_or(image->entry.command_line) + "\"";
    args.insert(args.end(), {"--bootloader", loader});
  } else {
    args.insert(args.end(), {"--bootloader", "efi,variable-store=" + (run.directory_ / "efi-variables.fd").string() + ",create"});
  }
  if (image->disk) args.insert(args.end(), {"--device", "virtio-blk,path=" + image->disk->string()});
  if (request.user_data) {
    auto text = read_whole_file("--user-data", *request.user_data);
    if (!text) return std::move(text).error();
    vmm::disks::CloudInitSeed seed;
    seed.user_data = std::move(*text);
    auto device = seed_device(seed, run);
    if (!device) return std::move(device).error();
    args.insert(args.end(), {"--device", *device});
  }
  return args;
}

}  // namespace vmm_examples
