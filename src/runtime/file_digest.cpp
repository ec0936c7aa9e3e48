// vmm internal: XXH3-128 digests of bundle files (see file_digest.hpp).
#include "runtime/file_digest.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>
#include <xxhash.h>

#include "vmm/file_descriptor.hpp"

namespace vmm::detail {

struct DigestStream::State {
  XXH3_state_t* xxh = XXH3_createState();
  ~State() { XXH3_freeState(xxh); }
};

DigestStream::DigestStream() : state_(std::make_unique<State>()) {
  if (state_->xxh == nullptr) throw std::bad_alloc();
  XXH3_128bits_reset(state_->xxh);
}

DigestStream::~DigestStream() = default;

void DigestStream::update(const void* data, std::size_t size) {
  XXH3_128bits_update(state_->xxh, data, size);
}

std::string DigestStream::finish() const {
  const XXH128_hash_t hash = XXH3_128bits_digest(state_->xxh);
  return fmt::format("{}{:016x}{:016x}", digest_prefix, hash.high64, hash.low64);
}

bool is_digest_text(std::string_view text) {
  if (text.size() != digest_prefix.size() + 32 || !text.starts_with(digest_prefix)) return false;
  for (const char c : text.substr(digest_prefix.size())) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Result<std::string> digest_file(const std::filesystem::path& path) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return make_error(errno == ENOENT ? Errc::not_found : Errc::io,
                      fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
  }
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  DigestStream digest;
  std::vector<char> buffer(1 << 20);
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return make_error(Errc::io,
                        fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
    }
    if (n == 0) break;
    digest.update(buffer.data(), static_cast<std::size_t>(n));
  }
  return digest.finish();
}

}  // namespace vmm::detail
