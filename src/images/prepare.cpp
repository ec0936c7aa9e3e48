// prepare_image: the one call a VM runner makes: catalog -> cache (download + verify) ->
// qcow2 -> raw (cached) -> this VM's clone of the disk.
#include "vmm/images.hpp"

namespace vmm::images {

Result<PreparedImage> prepare_image(std::string_view spec, const PrepareOptions& options) {
  auto catalog = Catalog::load(options.catalog_files);
  if (!catalog) return std::move(catalog).error();
  auto entry = catalog->find(spec);
  if (!entry) return std::move(entry).error();
  if (entry->disk && options.run_directory.empty()) {
    return Error(Errc::invalid_config, "image " + entry->name + " has a disk: give a run directory for its clone");
  }
  ImageCache cache(options.cache_directory.value_or(ImageCache::default_directory()));
  PreparedImage prepared;
  prepared.entry = *entry;
  if (entry->kernel) {
    auto kernel = cache.fetch(*entry->kernel, options.download);
    if (!kernel) return std::move(kernel).error();
    prepared.kernel = *kernel;
  }
  if (entry->initrd) {
    auto initrd = cache.fetch(*entry->initrd, options.download);
    if (!initrd) return std::move(initrd).error();
    prepared.initrd = *initrd;
  }
  if (entry->disk) {
    auto disk = cache.fetch(*entry->disk, options.download);
    if (!disk) return std::move(disk).error();
    std::filesystem::path raw = *disk;
    if (entry->disk_format == DiskFormat::qcow2) {
      auto converted = cache.raw_of(*disk);
      if (!converted) return std::move(converted).error();
      raw = *converted;
    }
    const auto clone_path = options.run_directory / (entry->name + ".raw");
    auto method = disks::clone(raw, clone_path);
    if (!method) return std::move(method).error();
    prepared.disk = clone_path;
    prepared.clone_method = *method;
  }
  return prepared;
}

}  // namespace vmm::images
