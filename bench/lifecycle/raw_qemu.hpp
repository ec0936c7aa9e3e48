// bench/lifecycle: one QEMU process started by the baseline, as vmm's QEMU engine starts one:
// QMP, the serial console and the virtio console on child descriptors 3, 4 and 5 (socketpairs),
// its own process group, a pidfd to wait on, and a thread that reads the guest's console lines.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>
#include <vmm/file_descriptor.hpp>

#include "lifecycle/guest_lines.hpp"
#include "lifecycle/raw_qmp.hpp"

namespace lifecycle {

class RawQemu {
 public:
  RawQemu(std::vector<std::string> argv, const std::filesystem::path& stderr_log,
          GuestLines& guest);
  ~RawQemu();
  RawQemu(const RawQemu&) = delete;
  RawQemu& operator=(const RawQemu&) = delete;

  RawQmp& qmp() { return *qmp_; }

  // As vmm's launch(): greeting, qmp_capabilities, MIGRATION events on.
  void negotiate();

  // quit, then wait for the process to be gone and its console to end.
  void quit();

  std::string stderr_text() const;

 private:
  bool wait_exit(std::chrono::milliseconds timeout);
  void reap();
  void console_loop();

  GuestLines& guest_;
  std::filesystem::path stderr_log_;
  pid_t pid_ = -1;
  vmm::FileDescriptor pidfd_;
  vmm::FileDescriptor qmp_fd_;
  vmm::FileDescriptor console_fd_;
  vmm::FileDescriptor virtio_console_fd_;  // hvc0: held open, not read
  std::unique_ptr<RawQmp> qmp_;
  std::thread console_thread_;
};

}  // namespace lifecycle
