// File digests for verification: reads the file in blocks through the platform Hasher.
#include "images/digest.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "runtime/posix.hpp"

namespace vmm::images {

std::string_view to_string(DigestAlgorithm algorithm) noexcept {
  return algorithm == DigestAlgorithm::sha512 ? "sha512" : "sha256";
}

Result<std::string> file_digest(const std::filesystem::path& file, DigestAlgorithm algorithm) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return vmm::detail::errno_error(Errc::io, "open " + vmm::detail::quoted(file));
  detail::Hasher hasher(algorithm);
  std::vector<unsigned char> buffer(1 << 20);
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      auto error = vmm::detail::errno_error(Errc::io, "read " + vmm::detail::quoted(file));
      ::close(fd);
      return error;
    }
    hasher.update(buffer.data(), static_cast<std::size_t>(n));
  }
  ::close(fd);
  return hasher.finish_hex();
}

namespace detail {

std::string to_hex(const unsigned char* bytes, std::size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    hex += digits[bytes[i] >> 4];
    hex += digits[bytes[i] & 0x0f];
  }
  return hex;
}

std::size_t hex_length(DigestAlgorithm algorithm) noexcept {
  return algorithm == DigestAlgorithm::sha512 ? 128 : 64;
}

}  // namespace detail
}  // namespace vmm::images
