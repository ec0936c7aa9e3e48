// vmm internal (QEMU backend): console ports at run time. Each run gets one connected stream
// socketpair per port (launch passes the child end to QEMU, see command_line/console_ports.cpp);
// the host end stays with the Core until teardown, and console_port() hands out dups of it, so
// a caller's descriptor outlives nothing: when QEMU exits, it reads end-of-file.
#include <fcntl.h>

#include <fmt/format.h>

#include "qemu/core.hpp"

namespace vmm::qemu {

Result<FileDescriptor> Core::do_console_port(std::size_t index) {
  std::lock_guard lock(mutex_);
  if (index >= console_ports_.size() || !console_ports_[index]) {
    return make_error(Errc::invalid_state, "console_port: QEMU is not running");
  }
  FileDescriptor copy(::fcntl(console_ports_[index].get(), F_DUPFD_CLOEXEC, 0));
  if (!copy) return make_error(Errc::io, fmt::format("console_port: dup: {}", errno_text()));
  return copy;
}

}  // namespace vmm::qemu
