// Checksum manifests: GNU SUMS files (text and binary markers), Fedora's CHECKSUM with its PGP
// wrapper, and the errors for malformed lines and missing entries; digests of known vectors.
#include <gtest/gtest.h>

#include "support/temp_dir.hpp"
#include "vmm/images.hpp"

namespace vmm::images {
namespace {

const std::string sha256_abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const std::string sha512_abc =
    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";

TEST(Digest, KnownVectors) {
  support::TempDir dir;
  const auto file = dir.file("abc", "abc");
  auto d256 = file_digest(file, DigestAlgorithm::sha256);
  ASSERT_TRUE(d256) << d256.error().to_string();
  EXPECT_EQ(*d256, sha256_abc);
  auto d512 = file_digest(file, DigestAlgorithm::sha512);
  ASSERT_TRUE(d512);
  EXPECT_EQ(*d512, sha512_abc);
  auto missing = file_digest(dir.path() / "none", DigestAlgorithm::sha256);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("none"), std::string::npos);
}

TEST(Manifest, GnuLinesTextAndBinary) {
  const std::string text = "# comment\n" + sha256_abc + "  disk.img\r\n" +
                           "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD *kernel\n\n";
  auto entries = parse_manifest(text, ManifestKind::sha256sums, "SUMS");
  ASSERT_TRUE(entries) << entries.error().to_string();
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0], (ManifestEntry{"disk.img", DigestAlgorithm::sha256, sha256_abc}));
  EXPECT_EQ((*entries)[1].file, "kernel");
  EXPECT_EQ((*entries)[1].digest, sha256_abc);  // lower-cased
  auto found = find_in_manifest(text, ManifestKind::sha256sums, "SUMS", "kernel");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->digest, sha256_abc);
}

TEST(Manifest, Sha512Sums) {
  auto found = find_in_manifest(sha512_abc + "  debian.qcow2\n", ManifestKind::sha512sums,
                                "SHA512SUMS", "debian.qcow2");
  ASSERT_TRUE(found) << found.error().to_string();
  EXPECT_EQ(found->algorithm, DigestAlgorithm::sha512);
  // A SHA-256 digest in a SHA512SUMS file is malformed.
  auto wrong = parse_manifest(sha256_abc + "  x\n", ManifestKind::sha512sums, "SHA512SUMS");
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message().find("SHA512SUMS line 1"), std::string::npos);
  EXPECT_NE(wrong.error().message().find("128 hex digits"), std::string::npos);
}

TEST(Manifest, FedoraChecksumWithSignature) {
  const std::string text =
      "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n"
      "# Fedora-Cloud-Base-Generic-41-1.4.x86_64.qcow2: 491716608 bytes\n"
      "SHA256 (Fedora-Cloud-Base-Generic-41-1.4.x86_64.qcow2) = " + sha256_abc + "\n"
      "-----BEGIN PGP SIGNATURE-----\n\niQIzBAEBCAAd\n=abcd\n-----END PGP SIGNATURE-----\n";
  auto found = find_in_manifest(text, ManifestKind::fedora_checksum, "CHECKSUM",
                                "Fedora-Cloud-Base-Generic-41-1.4.x86_64.qcow2");
  ASSERT_TRUE(found) << found.error().to_string();
  EXPECT_EQ(found->digest, sha256_abc);
  auto unclosed = parse_manifest("SHA256 (a) = " + sha256_abc + "\n-----BEGIN PGP SIGNATURE-----\nx\n",
                                 ManifestKind::fedora_checksum, "CHECKSUM");
  ASSERT_FALSE(unclosed);
  EXPECT_NE(unclosed.error().message().find("not closed"), std::string::npos);
}

TEST(Manifest, MalformedLinesAreNamed) {
  const std::pair<std::string, std::string> cases[] = {
      {"nothex  file\n", "line 1"},
      {sha256_abc + "\n", "expected"},
      {sha256_abc + "  \n", "no file name"},
      {"\n\n" + sha256_abc.substr(1) + "  f\n", "line 3"},
      {"", "no checksum lines"},
      {"# only a comment\n", "no checksum lines"},
      {std::string("abc\0def  f\n", 11), "NUL"},
  };
  for (const auto& [text, expected] : cases) {
    auto parsed = parse_manifest(text, ManifestKind::sha256sums, "SUMS");
    ASSERT_FALSE(parsed) << text;
    EXPECT_EQ(parsed.error().code(), Errc::invalid_config);
    EXPECT_NE(parsed.error().message().find(expected), std::string::npos) << parsed.error().message();
  }
  auto fedora = parse_manifest(sha256_abc + "  f\n", ManifestKind::fedora_checksum, "CHECKSUM");
  ASSERT_FALSE(fedora);
  EXPECT_NE(fedora.error().message().find("SHA256 (<file>)"), std::string::npos);
}

TEST(Manifest, MissingAndConflictingEntries) {
  const std::string text = sha256_abc + "  a\n";
  auto missing = find_in_manifest(text, ManifestKind::sha256sums, "http://h/SUMS", "b");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Errc::not_found);
  EXPECT_NE(missing.error().message().find("http://h/SUMS has no entry for \"b\""), std::string::npos);
  const std::string other(64, '0');
  auto conflict = find_in_manifest(text + other + "  a\n", ManifestKind::sha256sums, "S", "a");
  ASSERT_FALSE(conflict);
  EXPECT_NE(conflict.error().message().find("twice"), std::string::npos);
}

}  // namespace
}  // namespace vmm::images
