// vmm: options that only the QEMU backend reads (CreateOptions::qemu).
#pragma once

#include <filesystem>
#include <string_view>

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
};

}  // namespace vmm
