// Hasher over Apple's CommonCrypto (see src/CMakeLists.txt). Not compiled on the Linux CI:
// kept to straight calls, the same shape as digest_openssl.cpp.
#include <CommonCrypto/CommonDigest.h>

#include <variant>

#include "images/digest.hpp"

namespace vmm::images::detail {

struct Hasher::State {
  std::variant<CC_SHA256_CTX, CC_SHA512_CTX> context;
};

Hasher::Hasher(DigestAlgorithm algorithm) : state_(std::make_unique<State>()) {
  if (algorithm == DigestAlgorithm::sha512) {
    state_->context.emplace<CC_SHA512_CTX>();
    CC_SHA512_Init(&std::get<CC_SHA512_CTX>(state_->context));
  } else {
    CC_SHA256_Init(&std::get<CC_SHA256_CTX>(state_->context));
  }
}

Hasher::~Hasher() = default;

void Hasher::update(const void* data, std::size_t size) {
  // CC_LONG is 32 bits: feed large buffers in pieces.
  const auto* bytes = static_cast<const unsigned char*>(data);
  while (size > 0) {
    const auto piece = static_cast<CC_LONG>(size > (1u << 30) ? (1u << 30) : size);
    if (auto* c = std::get_if<CC_SHA512_CTX>(&state_->context)) CC_SHA512_Update(c, bytes, piece);
    else CC_SHA256_Update(&std::get<CC_SHA256_CTX>(state_->context), bytes, piece);
    bytes += piece;
    size -= piece;
  }
}

std::string Hasher::finish_hex() {
  unsigned char digest[CC_SHA512_DIGEST_LENGTH];
  if (auto* c = std::get_if<CC_SHA512_CTX>(&state_->context)) {
    CC_SHA512_Final(digest, c);
    return to_hex(digest, CC_SHA512_DIGEST_LENGTH);
  }
  CC_SHA256_Final(digest, &std::get<CC_SHA256_CTX>(state_->context));
  return to_hex(digest, CC_SHA256_DIGEST_LENGTH);
}

}  // namespace vmm::images::detail
