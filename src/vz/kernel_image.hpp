// vmm vz: the arm64 Linux kernel format check. VZ boots only an uncompressed ARM64 `Image` on
// Apple silicon and fails a compressed one at start with an opaque internal error.
#pragma once

#include <filesystem>

#include "vmm/error.hpp"

namespace vmm::vz {

// Reads the 64-byte Image header: ok when "ARMd" sits at offset 0x38. A gzip file, a short
// file or any other content is invalid_config naming the kernel; an unreadable one not_found.
Result<void> check_arm64_kernel_image(const std::filesystem::path& kernel);

}  // namespace vmm::vz
