// vmm/arch.hpp: CPU architectures, named once for the whole library (image catalogs, the QEMU
// backend's choice of binary and machine).
#pragma once

#include <string_view>

#include "vmm/error.hpp"

namespace vmm {

enum class Arch { x86_64, aarch64 };
std::string_view to_string(Arch arch) noexcept;
// "x86_64"/"amd64" and "aarch64"/"arm64" (uname's and Debian's names); anything else is
// invalid_config naming the value.
Result<Arch> parse_arch(std::string_view text);
// The architecture this library was compiled for.
Arch host_arch() noexcept;

}  // namespace vmm
