// vmm: options that only the QEMU backend reads (CreateOptions::qemu).
#pragma once

#include <filesystem>
#include <optional>
#include <string_view>

#include "vmm/arch.hpp"

namespace vmm {

enum class Acceleration {
  automatic,  // KVM when /dev/kvm opens and the CPU advertises vmx/svm, TCG otherwise
  kvm,
  tcg,
  // Apple's Hypervisor.framework: what Virtualization.framework always runs on. Not a QEMU
  // choice in vmm (its QEMU backend runs on Linux); VirtualMachine::acceleration() reports it.
  hvf,
};
std::string_view to_string(Acceleration acceleration) noexcept;

struct QemuOptions {
  std::filesystem::path binary;     // empty: qemu-system-<host arch> found on PATH
  Acceleration acceleration = Acceleration::automatic;
  std::filesystem::path virtiofsd;  // empty: /usr/lib/qemu/virtiofsd or virtiofsd on PATH
  // The guest's architecture; empty: the host's. Another architecture (an arm64 guest on an
  // x86_64 host, or the reverse) is emulated: TCG only, many times slower than the host's own;
  // `Acceleration::kvm` with it is `unsupported`. `binary` then defaults to
  // qemu-system-<guest arch> (Debian: qemu-system-arm for aarch64).
  std::optional<Arch> guest_arch;
};

}  // namespace vmm
