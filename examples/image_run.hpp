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
  ImageRun& operator=(ImageRun&&) = delete;
  ~ImageRun() {
    std::error_code ignored;
    if (!directory_.empty()) std::filesystem::remove_all(directory_, ignored);
  }
  std::filesystem::path directory_;
};

// Resolves, downloads, verifies, converts and clones the image, then points the builder at it:
// linux boot (the image's command line unless `command_line` is given) or EFI, its disk, and
// the NoCloud seed when --user-data was given.
inline vmm::Result<ImageRun> prepare_image_run(const ImageRequest& request, vmm::VmConfigBuilder& builder,
                                               const std::optional<std::string>& command_line) {
  namespace images = vmm::images;
  ImageRun run;
  const auto base = std::filesystem::temp_directory_path() / "vmm-run-XXXXXX";
  std::string templ = base.string();
  if (::mkdtemp(templ.data()) == nullptr) {
    return vmm::make_error(vmm::Errc::io, "cannot create a run directory under " + base.parent_path().string());
  }
  run.directory_ = templ;
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
  if (image->kernel) {
    builder.linux_boot(*image->kernel, image->initrd,
                       command_line.value_or(image->entry.command_line));
  } else {
    builder.efi_boot(vmm::EfiBoot{run.directory_ / "efi-variables.fd", true});
  }
  if (image->disk) builder.disk(*image->disk);
  if (request.user_data) {
    std::ifstream in(*request.user_data, std::ios::binary);
    if (!in) return vmm::make_error(vmm::Errc::not_found, "--user-data: cannot read " + request.user_data->string());
    std::ostringstream text;
    text << in.rdbuf();
    vmm::disks::CloudInitSeed seed;
    seed.user_data = text.str();
    const auto iso = run.directory_ / "seed.iso";
    if (auto written = vmm::disks::write_cloud_init_seed(seed, iso); !written) return std::move(written).error();
    vmm::disks::attach_seed(builder, iso);
  }
  return run;
}

}  // namespace vmm_examples
