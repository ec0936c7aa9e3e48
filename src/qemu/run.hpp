// vmm internal (QEMU backend): one QEMU run — the process and everything that lives exactly as
// long as it — and the small POSIX helpers its launch needs. Launch and teardown are Core
// members (run.cpp) because they also reset the Core's event record and generation; teardown
// stays explicit (Core::teardown_run) since it must join the console thread and bump the
// generation in a fixed order that a destructor run from an arbitrary owner could not promise.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "qemu/process.hpp"
#include "qemu/qmp_client.hpp"
#include "qemu/run_log.hpp"
#include "vmm/error.hpp"
#include "vmm/file_descriptor.hpp"

namespace vmm::qemu {

// One QEMU process and everything that lives exactly as long as it.
struct Run {
  std::uint64_t generation = 0;
  std::vector<std::unique_ptr<Process>> virtiofsd;
  std::shared_ptr<RunLog> log;    // QEMU's stderr (run_log.hpp); outlives the waiter's writes
  std::unique_ptr<Process> qemu;
  std::unique_ptr<QmpClient> qmp;
  FileDescriptor console;        // our end of the guest's ttyS0
  FileDescriptor virtio_console; // our end of the guest's hvc0
  FileDescriptor console_wake;   // eventfd: tells the console thread to finish
  FileDescriptor serial_file;    // SerialToFile, opened per run
  std::thread console_thread;
  bool exit_expected = false;    // stop() or a reported failure owns the exit
};

// strerror(errno), for messages.
std::string errno_text();

Result<std::array<FileDescriptor, 2>> stream_socketpair();

// A listening unix socket at `path` (a stale file there is replaced).
Result<FileDescriptor> listen_unix(const std::filesystem::path& path);

// Error messages stay on one line: QEMU's stderr lines are joined with "; " (the full text goes
// to the log).
std::string with_stderr(std::string message, const std::string& tail);

}  // namespace vmm::qemu
