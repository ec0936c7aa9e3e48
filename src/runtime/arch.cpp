// The architecture names (vmm/arch.hpp): the only table of them.
#include "vmm/arch.hpp"

#include <string>

namespace vmm {

std::string_view to_string(Arch arch) noexcept {
  return arch == Arch::aarch64 ? "aarch64" : "x86_64";
}

Result<Arch> parse_arch(std::string_view text) {
  if (text == "x86_64" || text == "amd64") return Arch::x86_64;
  if (text == "aarch64" || text == "arm64") return Arch::aarch64;
  return Error(Errc::invalid_config,
               "architecture \"" + std::string(text) + "\" is not x86_64 (amd64) or aarch64 (arm64)");
}

Arch host_arch() noexcept {
#if defined(__aarch64__) || defined(__arm64__)
  return Arch::aarch64;
#else
  return Arch::x86_64;
#endif
}

}  // namespace vmm
