#include "vz/kernel_image.hpp"

#include <array>
#include <cstring>
#include <fstream>
#include <string>

namespace vmm::vz {
namespace {
constexpr std::size_t header_size = 0x40;
constexpr std::size_t magic_offset = 0x38;
constexpr std::array<char, 4> arm64_magic{'A', 'R', 'M', 'd'};
}  // namespace

Result<void> check_arm64_kernel_image(const std::filesystem::path& kernel) {
  const std::string what = "kernel \"" + kernel.string() + "\"";
  std::ifstream file(kernel, std::ios::binary);
  if (!file) return make_error(Errc::not_found, what + ": cannot be opened");
  std::array<char, header_size> header{};
  file.read(header.data(), static_cast<std::streamsize>(header.size()));
  const auto got = static_cast<std::size_t>(file.gcount());
  if (got >= 2 && static_cast<unsigned char>(header[0]) == 0x1f &&
      static_cast<unsigned char>(header[1]) == 0x8b) {
    return make_error(Errc::invalid_config,
                      what + ": is gzip-compressed; Virtualization.framework on arm64 boots "
                             "only an uncompressed ARM64 Image (gunzip it first)");
  }
  if (got < header_size ||
      std::memcmp(header.data() + magic_offset, arm64_magic.data(), arm64_magic.size()) != 0) {
    return make_error(Errc::invalid_config,
                      what + ": is not an uncompressed ARM64 Image (no \"ARMd\" magic at offset "
                             "0x38); Virtualization.framework on arm64 cannot boot it");
  }
  return {};
}

}  // namespace vmm::vz
