// vmm internal: incremental SHA-256/SHA-512 over the platform's crypto library. The one
// implementation is chosen by CMake: platform/digest_openssl.cpp (libcrypto) or
// platform/digest_commoncrypto.cpp (Apple). Never a hand-written hash.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "vmm/images.hpp"

namespace vmm::images::detail {

class Hasher {
 public:
  explicit Hasher(DigestAlgorithm algorithm);
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  void update(const void* data, std::size_t size);
  // Lower-case hex; the hasher is finished afterwards.
  std::string finish_hex();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Bytes -> lower-case hex.
std::string to_hex(const unsigned char* bytes, std::size_t size);
// The digest length in hex characters (64 or 128).
std::size_t hex_length(DigestAlgorithm algorithm) noexcept;

}  // namespace vmm::images::detail
