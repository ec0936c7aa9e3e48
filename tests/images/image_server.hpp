// Image-test support: a local server with files and their SHA256SUMS, and an asset for each.
#pragma once

#include <string>

#include "images/digest.hpp"
#include "support/http_server.hpp"
#include "vmm/images.hpp"

namespace vmm::images::testing {

inline std::string sha256_of(std::string_view data) {
  detail::Hasher hasher(DigestAlgorithm::sha256);
  hasher.update(data.data(), data.size());
  return hasher.finish_hex();
}

// Bytes that are not all alike, so that a misplaced resume changes the digest.
inline std::string pattern(std::size_t size, unsigned seed = 1) {
  std::string data(size, '\0');
  unsigned x = seed;
  for (auto& c : data) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 16);
  }
  return data;
}

inline Asset asset_for(const support::HttpServer& server, const std::string& path) {
  return Asset{server.url(path), server.url("/SHA256SUMS"), ManifestKind::sha256sums, {}};
}

}  // namespace vmm::images::testing
