// macOS copy-on-write clone: clonefile(2) on APFS. Not compiled on the Linux CI; kept to
// the one call and its error mapping, as reflink_linux.cpp.
#include <sys/clonefile.h>

#include <cerrno>

#include "disks/clone_internal.hpp"
#include "runtime/posix.hpp"

namespace vmm::disks::detail {

Result<std::optional<CloneMethod>> platform_clone(const std::filesystem::path& source,
                                                  const std::filesystem::path& destination) {
  if (::clonefile(source.c_str(), destination.c_str(), 0) == 0) {
    return std::optional<CloneMethod>(CloneMethod::clonefile);
  }
  const int saved = errno;
  if (saved == ENOTSUP || saved == EXDEV) return std::optional<CloneMethod>();
  return vmm::detail::errno_error(Errc::io, "clonefile " + vmm::detail::quoted(source) + " -> " +
                                                vmm::detail::quoted(destination), saved);
}

}  // namespace vmm::disks::detail
