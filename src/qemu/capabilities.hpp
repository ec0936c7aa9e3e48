// vmm internal (QEMU backend): what the QEMU binary itself offers for confinement, read from its
// `-help` text (the probe runs the binary once per binary path and caches the answer; the
// parsing is a pure function, unit-tested with QEMU's text).
#pragma once

#include <filesystem>
#include <string_view>

#include "vmm/error.hpp"

namespace vmm::qemu {

struct QemuCapabilities {
  bool sandbox = false;          // -sandbox: built with seccomp
  bool chroot_option = false;    // -chroot DIR (QEMU up to 8.x)
  bool runas_option = false;     // -runas USER or UID:GID (deprecated in 9.1)
  bool run_with_chroot = false;  // -run-with chroot=DIR (8.1+)
  bool run_with_user = false;    // -run-with user=UID:GID (9.1+)
};

QemuCapabilities parse_qemu_help(std::string_view help);

// Runs `binary -help` (no shell; stdout read through a pipe).
Result<QemuCapabilities> probe_qemu_capabilities(const std::filesystem::path& binary);

}  // namespace vmm::qemu
