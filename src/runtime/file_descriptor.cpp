#include "vmm/file_descriptor.hpp"

#include <unistd.h>

namespace vmm {

void FileDescriptor::reset(int fd) noexcept {
  if (fd_ >= 0 && fd_ != fd) ::close(fd_);
  fd_ = fd;
}

}  // namespace vmm
