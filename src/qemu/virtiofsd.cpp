// vmm internal (QEMU backend): virtiofsd's command line (virtiofsd.hpp says why each part).
#include "qemu/virtiofsd.hpp"

#include <fmt/format.h>

namespace vmm::qemu {

std::vector<std::string> virtiofsd_arguments(const std::filesystem::path& binary,
                                             const std::filesystem::path& directory) {
  return {binary.string(),
          "--fd=3",
          "-o",
          fmt::format("source={}", directory.string()),
          "-o",
          "cache=none",
          "-o",
          "sandbox=namespace"};
}

}  // namespace vmm::qemu
