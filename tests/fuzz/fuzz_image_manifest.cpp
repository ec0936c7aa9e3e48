// parse_manifest / find_in_manifest (checksum manifests: SHA256SUMS, SHA512SUMS, Fedora
// CHECKSUM) on arbitrary bytes. The first byte picks the kind. Properties: never throws;
// rejections are invalid_config errors naming the manifest; every accepted entry has a
// non-empty one-line file name and a lower-case hex digest of its algorithm's length, and
// find_in_manifest finds it (or reports the conflicting duplicate).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "vmm/images.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  using vmm::images::ManifestKind;
  const ManifestKind kinds[] = {ManifestKind::sha256sums, ManifestKind::sha512sums,
                                ManifestKind::fedora_checksum};
  const ManifestKind kind = kinds[data[0] % 3];
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const auto entries = vmm::images::parse_manifest(text, kind, "SUMS");
  if (!entries) {
    FUZZ_CHECK(entries.error().code() == vmm::Errc::invalid_config, entries.error().to_string());
    FUZZ_CHECK(entries.error().message().rfind("SUMS", 0) == 0,
               "error does not name the manifest: " + entries.error().message());
    return 0;
  }
  FUZZ_CHECK(!entries->empty(), "accepted a manifest without entries");
  for (const auto& entry : *entries) {
    FUZZ_CHECK(!entry.file.empty() && entry.file.find('\n') == std::string::npos,
               "bad file name: " + entry.file);
    const std::size_t length = entry.algorithm == vmm::images::DigestAlgorithm::sha512 ? 128 : 64;
    FUZZ_CHECK(entry.digest.size() == length, "digest length: " + entry.digest);
    for (char c : entry.digest) {
      FUZZ_CHECK((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'), "digest not lower hex: " + entry.digest);
    }
  }
  std::string_view first = entries->front().file;
  if (first.rfind("./", 0) == 0) first.remove_prefix(2);
  const auto found = vmm::images::find_in_manifest(text, kind, "SUMS", first);
  FUZZ_CHECK(found.has_value() || found.error().message().find("twice") != std::string::npos,
             "listed entry not found: " + std::string(first));
  return 0;
}
