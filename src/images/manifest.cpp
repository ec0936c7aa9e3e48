// Checksum manifests as distributions publish them: GNU "SHA256SUMS"/"SHA512SUMS" lines and
// Fedora's "CHECKSUM" (BSD-tagged lines, comments, and possibly a PGP clear-signature wrapper,
// whose signature is not checked here: the manifest is fetched over HTTPS).
#include <algorithm>
#include <cctype>

#include "images/digest.hpp"
#include "vmm/images.hpp"

namespace vmm::images {
namespace {

bool is_hex(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0;
  });
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "<origin> line N: <what>"; the line itself is quoted, shortened.
Error bad_line(std::string_view origin, std::size_t number, std::string_view line,
               std::string_view what) {
  std::string shown(line.substr(0, 80));
  for (char& c : shown) {
    if (!std::isprint(static_cast<unsigned char>(c))) c = '?';
  }
  return Error(Errc::invalid_config, std::string(origin) + " line " + std::to_string(number) +
                                         ": " + std::string(what) + " (\"" + shown + "\")");
}

// "<hex>  <file>" or "<hex> *<file>" (binary mode), as sha256sum writes them.
Result<ManifestEntry> parse_gnu(std::string_view line, DigestAlgorithm algorithm,
                                std::string_view origin, std::size_t number) {
  const auto space = line.find(' ');
  if (space == std::string_view::npos) return bad_line(origin, number, line, "expected \"<digest>  <file>\"");
  const auto hex = line.substr(0, space);
  if (!is_hex(hex) || hex.size() != detail::hex_length(algorithm)) {
    return bad_line(origin, number, line,
                    "the digest is not " + std::to_string(detail::hex_length(algorithm)) +
                        " hex digits of " + std::string(to_string(algorithm)));
  }
  auto file = line.substr(space + 1);
  if (!file.empty() && (file.front() == ' ' || file.front() == '*')) file.remove_prefix(1);
  if (file.empty()) return bad_line(origin, number, line, "no file name after the digest");
  return ManifestEntry{std::string(file), algorithm, lower(hex)};
}

// "SHA256 (<file>) = <hex>", as Fedora (and `sha256sum --tag`) writes them.
Result<ManifestEntry> parse_tagged(std::string_view line, std::string_view origin,
                                   std::size_t number) {
  DigestAlgorithm algorithm;
  if (line.rfind("SHA256 (", 0) == 0) algorithm = DigestAlgorithm::sha256;
  else if (line.rfind("SHA512 (", 0) == 0) algorithm = DigestAlgorithm::sha512;
  else return bad_line(origin, number, line, "expected \"SHA256 (<file>) = <digest>\"");
  const auto rest = line.substr(8);
  const auto close = rest.rfind(") = ");
  if (close == std::string_view::npos || close == 0) {
    return bad_line(origin, number, line, "expected \"(<file>) = <digest>\"");
  }
  const auto hex = rest.substr(close + 4);
  if (!is_hex(hex) || hex.size() != detail::hex_length(algorithm)) {
    return bad_line(origin, number, line,
                    "the digest is not " + std::to_string(detail::hex_length(algorithm)) +
                        " hex digits of " + std::string(to_string(algorithm)));
  }
  return ManifestEntry{std::string(rest.substr(0, close)), algorithm, lower(hex)};
}

}  // namespace

std::string_view to_string(ManifestKind kind) noexcept {
  switch (kind) {
    case ManifestKind::sha256sums: return "sha256sums";
    case ManifestKind::sha512sums: return "sha512sums";
    case ManifestKind::fedora_checksum: return "fedora_checksum";
  }
  return "unknown";
}

Result<std::vector<ManifestEntry>> parse_manifest(std::string_view text, ManifestKind kind,
                                                  std::string_view origin) {
  std::vector<ManifestEntry> entries;
  bool in_signature = false;
  std::size_t number = 0;
  while (!text.empty()) {
    const auto end = text.find('\n');
    auto line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find('\0') != std::string_view::npos) {
      return bad_line(origin, number, line, "a NUL byte: not a text manifest");
    }
    if (kind == ManifestKind::fedora_checksum) {
      // The PGP wrapper: header lines until the first blank one, the signature block to its end.
      if (line == "-----BEGIN PGP SIGNED MESSAGE-----") {
        while (!text.empty()) {
          const auto e = text.find('\n');
          auto header = text.substr(0, e);
          text = e == std::string_view::npos ? std::string_view() : text.substr(e + 1);
          ++number;
          if (!header.empty() && header.back() == '\r') header.remove_suffix(1);
          if (header.empty()) break;
        }
        continue;
      }
      if (line == "-----BEGIN PGP SIGNATURE-----") in_signature = true;
      if (in_signature) {
        if (line == "-----END PGP SIGNATURE-----") in_signature = false;
        continue;
      }
      if (line.empty() || line.front() == '#') continue;
      auto entry = parse_tagged(line, origin, number);
      if (!entry) return std::move(entry).error();
      entries.push_back(std::move(*entry));
      continue;
    }
    if (line.empty() || line.front() == '#') continue;
    const auto algorithm =
        kind == ManifestKind::sha512sums ? DigestAlgorithm::sha512 : DigestAlgorithm::sha256;
    auto entry = parse_gnu(line, algorithm, origin, number);
    if (!entry) return std::move(entry).error();
    entries.push_back(std::move(*entry));
  }
  if (in_signature) {
    return Error(Errc::invalid_config, std::string(origin) + ": the PGP signature block is not closed");
  }
  if (entries.empty()) {
    return Error(Errc::invalid_config, std::string(origin) + ": no checksum lines (" +
                                           std::string(to_string(kind)) + " expected)");
  }
  return entries;
}

Result<ManifestEntry> find_in_manifest(std::string_view text, ManifestKind kind,
                                       std::string_view origin, std::string_view file) {
  auto entries = parse_manifest(text, kind, origin);
  if (!entries) return std::move(entries).error();
  std::optional<ManifestEntry> found;
  for (auto& entry : *entries) {
    std::string_view name = entry.file;
    if (name.rfind("./", 0) == 0) name.remove_prefix(2);
    if (name != file) continue;
    if (found && found->digest != entry.digest) {
      return Error(Errc::invalid_config, std::string(origin) + " lists \"" + std::string(file) +
                                             "\" twice with different digests");
    }
    found = std::move(entry);
  }
  if (!found) {
    return Error(Errc::not_found, std::string(origin) + " has no entry for \"" +
                                      std::string(file) + "\" (" +
                                      std::to_string(entries->size()) + " entries)");
  }
  return *found;
}

}  // namespace vmm::images
