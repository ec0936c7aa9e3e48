// vmm internal: the digest a snapshot manifest records for each file of its bundle.
//
// XXH3-128 from libxxhash: a fast non-cryptographic checksum. It detects damage (a flipped
// byte, a torn or truncated copy), not tampering: whoever can rewrite a state file can rewrite
// the manifest next to it. Written as "xxh3-128:" and 32 lowercase hex digits.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "vmm/error.hpp"

namespace vmm::detail {

inline constexpr std::string_view digest_prefix = "xxh3-128:";

// Incremental hashing of a byte stream (e.g. a state file while it is written).
class DigestStream {
 public:
  DigestStream();
  ~DigestStream();
  DigestStream(const DigestStream&) = delete;
  DigestStream& operator=(const DigestStream&) = delete;

  void update(const void* data, std::size_t size);
  std::string finish() const;  // "xxh3-128:<hex>"

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Whether `text` has the shape digest_prefix + 32 lowercase hex digits.
bool is_digest_text(std::string_view text);

// Reads the whole file; io / not_found errors name the path.
Result<std::string> digest_file(const std::filesystem::path& path);

}  // namespace vmm::detail
