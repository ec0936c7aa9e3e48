// Hasher over OpenSSL's libcrypto (EVP), for every platform but Apple (see src/CMakeLists.txt).
#include <openssl/evp.h>

#include <cstdlib>

#include "images/digest.hpp"

namespace vmm::images::detail {

struct Hasher::State {
  EVP_MD_CTX* context = nullptr;
};

Hasher::Hasher(DigestAlgorithm algorithm) : state_(std::make_unique<State>()) {
  state_->context = EVP_MD_CTX_new();
  const EVP_MD* md = algorithm == DigestAlgorithm::sha512 ? EVP_sha512() : EVP_sha256();
  // Both fail only when out of memory; a silently wrong digest would be worse than stopping.
  if (state_->context == nullptr || EVP_DigestInit_ex(state_->context, md, nullptr) != 1) std::abort();
}

Hasher::~Hasher() { EVP_MD_CTX_free(state_->context); }

void Hasher::update(const void* data, std::size_t size) {
  if (EVP_DigestUpdate(state_->context, data, size) != 1) std::abort();
}

std::string Hasher::finish_hex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(state_->context, digest, &length) != 1) std::abort();
  return to_hex(digest, length);
}

}  // namespace vmm::images::detail
