// Every path a config names, made absolute when it is built: the manifest of a snapshot and
// `vmm-run --print-config` must work from any directory, and a hypervisor started in another
// directory (or a chroot) must find the same files.
#include <filesystem>
#include <system_error>
#include <variant>

#include "vmm/config.hpp"

namespace vmm {
namespace {

// Empty stays empty (validation names it); a path that cannot be resolved (the current
// directory is gone) stays as given, and validation reports what it cannot open.
void make_absolute(std::filesystem::path& path) {
  if (path.empty() || path.is_absolute()) return;
  std::error_code error;
  auto absolute = std::filesystem::absolute(path, error);
  if (!error) path = std::move(absolute);
}

struct BootPaths {
  void operator()(LinuxBoot& boot) const {
    make_absolute(boot.kernel);
    if (boot.initrd) make_absolute(*boot.initrd);
  }
  void operator()(EfiBoot& boot) const { make_absolute(boot.variable_store); }
};

struct SharePaths {
  void operator()(SharedDirectory& directory) const { make_absolute(directory.directory); }
  void operator()(std::map<std::string, SharedDirectory>& directories) const {
    for (auto& [name, directory] : directories) make_absolute(directory.directory);
  }
};

}  // namespace

void VmConfigBuilder::make_paths_absolute() {
  if (boot_) std::visit(BootPaths{}, *boot_);
  for (auto& network : networks_) {
    if (auto* unix_datagram = std::get_if<UnixDatagramNetwork>(&network.attachment)) {
      make_absolute(unix_datagram->socket);
    }
  }
  for (auto& share : shares_) std::visit(SharePaths{}, share.source);
  for (auto& disk : disks_) make_absolute(disk.path);
  if (auto* file = std::get_if<SerialToFile>(&serial_)) make_absolute(file->path);
}

}  // namespace vmm
