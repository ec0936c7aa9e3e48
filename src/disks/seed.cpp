// cloud-init NoCloud seeds: an ISO 9660 volume labelled "cidata" (libarchive's ISO writer,
// Rock Ridge and Joliet names; ISO 9660 stores the label upper case, "CIDATA", which cloud-init
// accepts as well) holding user-data, meta-data and optionally network-config.
#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <memory>

#include "runtime/posix.hpp"
#include "vmm/disks.hpp"

namespace vmm::disks {
namespace {

Error archive_failure(archive* writer, const std::filesystem::path& iso, std::string_view step) {
  const char* reason = archive_error_string(writer);
  return Error(Errc::io, "cloud-init seed " + vmm::detail::quoted(iso) + ": " + std::string(step) +
                             ": " + (reason != nullptr ? reason : "libarchive failed"));
}

Result<void> add_file(archive* writer, const std::filesystem::path& iso, const char* name,
                      std::string_view content) {
  std::unique_ptr<archive_entry, decltype(&archive_entry_free)> entry(archive_entry_new(),
                                                                     archive_entry_free);
  archive_entry_set_pathname(entry.get(), name);
  archive_entry_set_filetype(entry.get(), AE_IFREG);
  archive_entry_set_perm(entry.get(), 0644);
  archive_entry_set_size(entry.get(), static_cast<la_int64_t>(content.size()));
  if (archive_write_header(writer, entry.get()) != ARCHIVE_OK) {
    return archive_failure(writer, iso, std::string("header of ") + name);
  }
  if (!content.empty() &&
      archive_write_data(writer, content.data(), content.size()) != static_cast<la_ssize_t>(content.size())) {
    return archive_failure(writer, iso, std::string("data of ") + name);
  }
  return {};
}

}  // namespace

Result<void> write_cloud_init_seed(const CloudInitSeed& seed, const std::filesystem::path& iso) {
  if (seed.hostname.empty() || seed.hostname.find_first_of(" \n\t:") != std::string::npos) {
    return Error(Errc::invalid_config, "cloud-init seed: hostname \"" + seed.hostname +
                                           "\" must be a non-empty word");
  }
  const std::string meta_data = !seed.meta_data.empty()
                                    ? seed.meta_data
                                    : "instance-id: " + seed.hostname + "\nlocal-hostname: " +
                                          seed.hostname + "\n";
  auto temporary = iso;
  temporary += ".tmp." + std::to_string(::getpid());
  std::unique_ptr<archive, decltype(&archive_write_free)> writer(archive_write_new(), archive_write_free);
  archive* w = writer.get();
  if (archive_write_set_format_iso9660(w) != ARCHIVE_OK ||
      archive_write_set_format_option(w, "iso9660", "volume-id", "cidata") != ARCHIVE_OK ||
      archive_write_set_format_option(w, "iso9660", "joliet", "1") != ARCHIVE_OK ||
      archive_write_set_format_option(w, "iso9660", "rockridge", "1") != ARCHIVE_OK) {
    return archive_failure(w, iso, "ISO 9660 options");
  }
  if (archive_write_open_filename(w, temporary.c_str()) != ARCHIVE_OK) {
    return archive_failure(w, iso, "create " + temporary.string());
  }
  auto result = add_file(w, iso, "user-data", seed.user_data);
  if (result) result = add_file(w, iso, "meta-data", meta_data);
  if (result && seed.network_config) result = add_file(w, iso, "network-config", *seed.network_config);
  if (result && archive_write_close(w) != ARCHIVE_OK) result = archive_failure(w, iso, "close");
  if (!result) {
    ::unlink(temporary.c_str());
    return result;
  }
  if (::rename(temporary.c_str(), iso.c_str()) != 0) {
    auto error = vmm::detail::errno_error(Errc::io, "rename " + vmm::detail::quoted(temporary));
    ::unlink(temporary.c_str());
    return error;
  }
  return {};
}

VmConfigBuilder& attach_seed(VmConfigBuilder& builder, const std::filesystem::path& iso) {
  return builder.disk(iso, /*read_only=*/true);
}

}  // namespace vmm::disks
