// Linux copy-on-write clone: FICLONE shares the source's extents (XFS with reflink, btrfs, ...).
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>

#include "disks/clone_internal.hpp"
#include "runtime/posix.hpp"

namespace vmm::disks::detail {

Result<std::optional<CloneMethod>> platform_clone(const std::filesystem::path& source,
                                                  const std::filesystem::path& destination) {
  using vmm::detail::errno_error;
  using vmm::detail::quoted;
  auto files = open_clone_pair(source, destination);
  if (!files) return std::move(files).error();
  const int rc = ::ioctl(files->destination.get(), FICLONE, files->source.get());
  const int saved = errno;
  files->destination.reset();
  if (rc == 0) return std::optional<CloneMethod>(CloneMethod::reflink);
  ::unlink(destination.c_str());
  // Not supported here (other filesystem, across mounts, no reflink): the caller copies.
  if (saved == EOPNOTSUPP || saved == ENOTTY || saved == EXDEV || saved == EINVAL ||
      saved == ENOSYS || saved == EPERM) {
    return std::optional<CloneMethod>();
  }
  return errno_error(Errc::io, "FICLONE " + quoted(source) + " -> " + quoted(destination), saved);
}

}  // namespace vmm::disks::detail
