// vmm internal (QEMU backend): console ports at run time. Each run gets one connected stream
// socketpair per port (Run::start passes the child end to QEMU, see command_line/console_ports.cpp);
// the host end lives as long as the Run, and console_port() hands out dups of it, so a caller's
// descriptor reads end-of-file once QEMU has exited.
#include <fcntl.h>

#include <fmt/format.h>

#include "qemu/core.hpp"
#include "runtime/posix.hpp"

namespace vmm::qemu {

Result<FileDescriptor> Run::console_port(std::size_t index) const {
  if (index >= console_ports_.size() || !console_ports_[index]) {
    return make_error(Errc::invalid_state, "console_port: this run has no such port");
  }
  FileDescriptor copy(::fcntl(console_ports_[index].get(), F_DUPFD_CLOEXEC, 0));
  if (!copy) return Unexpected(detail::errno_error(Errc::io, "console_port: dup"));
  return copy;
}

// live_run_ is cleared under the mutex before a Run is destroyed, so it stays valid here.
Result<FileDescriptor> Core::do_console_port(std::size_t index) {
  std::lock_guard lock(mutex_);
  if (live_run_ == nullptr) {
    return make_error(Errc::invalid_state, "console_port: QEMU is not running");
  }
  return live_run_->console_port(index);
}

}  // namespace vmm::qemu
