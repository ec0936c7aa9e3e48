// Shared fixtures for the vz tests: made-up host facts and a scratch directory with the files a
// VmConfig's build() insists exist (kernel, disks, shared directories).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "vmm/config.hpp"
#include "support/temp_dir.hpp"
#include "vz/host_facts.hpp"

namespace vmm::vz::test {

// An Apple silicon Mac with everything but nested virtualization, on the given macOS.
inline HostFacts mac(int major, int minor = 0, HostArch arch = HostArch::arm64) {
  HostFacts host;
  host.macos = MacosVersion{major, minor};
  host.arch = arch;
  host.min_cpus = 1;
  host.max_cpus = 8;
  host.min_memory = Size::mib(128);
  host.max_memory = Size::gib(16);
  host.nested_virtualization_supported = false;
  host.rosetta = arch == HostArch::arm64 ? RosettaAvailability::installed
                                         : RosettaAvailability::not_supported;
  return host;
}

// The 64-byte header of an uncompressed ARM64 Image: "ARMd" at offset 0x38.
inline std::string arm64_image_header() {
  std::string header(64, '\0');
  header.replace(0x38, 4, "ARMd");
  return header;
}

// The shared temp directory (tests/support) with the names the vz tests use.
class Scratch : public support::TempDir {
 public:
  const std::filesystem::path& dir() const { return path(); }
  std::filesystem::path directory(const std::string& name) const { return TempDir::dir(name); }
  std::filesystem::path kernel() const { return file("Image", arm64_image_header()); }

  // A builder with a Linux boot on a valid kernel: the starting point of most tests.
  VmConfigBuilder linux_builder() const {
    auto builder = VmConfig::builder();
    builder.linux_boot(kernel(), std::nullopt, "console=hvc0");
    return builder;
  }
};

// build(), failing the test (with the builder's message) when it does not.
inline VmConfig built(const VmConfigBuilder& builder) {
  auto config = builder.build();
  if (!config) {
    ADD_FAILURE() << "build() failed: " << config.error().to_string();
    std::abort();
  }
  return *std::move(config);
}

}  // namespace vmm::vz::test
