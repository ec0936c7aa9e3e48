#include "vz/block_device.hpp"

#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

namespace vmm::vz {

bool is_block_device(const std::filesystem::path& path) {
  std::error_code ec;
  return std::filesystem::is_block_file(path, ec);
}

Result<FileDescriptor> open_block_device(const StoragePlan& disk) {
  const int flags = (disk.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
  FileDescriptor fd(::open(disk.path.c_str(), flags));
  if (!fd) {
    const int error = errno;
    const Errc code = error == ENOENT ? Errc::not_found : Errc::io;
    return make_error(code, "disk \"" + disk.path.string() + "\": cannot open the block device " +
                                (disk.read_only ? "read-only" : "for reading and writing") +
                                ": " + std::strerror(error));
  }
  return fd;
}

}  // namespace vmm::vz
