// vmm internal (QEMU backend): facts about the host that shape the QEMU command line.
//
// Probing (files, PATH, /dev nodes) is kept apart from deciding (pure functions over text and
// flags), so that every decision is unit-tested with fake /proc/cpuinfo text.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

#include "vmm/arch.hpp"
#include "vmm/error.hpp"
#include "vmm/virtual_machine.hpp"

namespace vmm::qemu {

// The architectures the QEMU backend runs guests of: the host's own (no cross-architecture
// emulation is offered; TCG is for hosts without KVM, not for foreign guests).
// The names and parsing are vmm/arch.hpp's (src/runtime/arch.cpp).
using HostArch = vmm::Arch;

// uname(2)'s machine field ("x86_64", "aarch64", "arm64") as a HostArch; any other is
// `unsupported`, naming it.
Result<HostArch> host_arch_from_machine(std::string_view machine);

// What differs per architecture, decided here only: QEMU's binary and its Debian package, and the
// UEFI firmware (code and variable-store template) with its package.
struct QemuTarget {
  std::string_view binary;
  std::string_view package;
  std::string_view firmware_code;
  std::string_view firmware_vars;
  std::string_view firmware_package;
};
const QemuTarget& qemu_target(HostArch arch) noexcept;

struct QemuHostFacts {
  HostArch arch = HostArch::x86_64;
  std::filesystem::path binary;                       // qemu_target(arch).binary
  Acceleration acceleration = Acceleration::tcg;      // resolved: kvm or tcg, never automatic
  std::uint64_t tsc_khz = 0;                          // 0: unknown
  std::optional<std::filesystem::path> virtiofsd;     // absent: directory shares unsupported
  bool vhost_vsock = false;                           // /dev/vhost-vsock exists
  bool kvm_nested = false;                            // kvm_intel/kvm_amd loaded with nested=1
  std::optional<std::filesystem::path> ovmf_code;     // UEFI firmware (OVMF or AAVMF)
  std::optional<std::filesystem::path> ovmf_vars;     // its variable store template
};

// True when the CPU flags line advertises hardware virtualization (vmx or svm). A paravirtual
// /dev/kvm without them opens but cannot run guests (see docs: KVM aborts at start).
bool cpuinfo_has_hardware_virtualization(std::string_view cpuinfo);

// The first "cpu MHz" value × 1000, or 0 when absent or malformed. Used as tsc_early_khz on
// microvm, whose guest otherwise hangs at random calibrating the TSC without HPET/PM timer.
std::uint64_t cpuinfo_tsc_khz(std::string_view cpuinfo);

// automatic: KVM when /dev/kvm opens and (on x86_64) the CPU has vmx/svm, TCG otherwise; arm64
// cpuinfo names no virtualization flag, so there an openable /dev/kvm decides. An explicit kvm
// request is honoured whenever /dev/kvm opens (the caller knows their host), and is
// `unsupported` naming /dev/kvm when it does not.
Result<Acceleration> resolve_acceleration(Acceleration requested, bool kvm_opens,
                                          std::string_view cpuinfo,
                                          HostArch arch = HostArch::x86_64);

// `configured` when set (must exist), else `name` searched in the colon-separated `path_env`.
// Missing: not_found naming the Debian package that provides it.
Result<std::filesystem::path> find_executable(const std::filesystem::path& configured,
                                              std::string_view name, std::string_view path_env,
                                              std::string_view package);

// Reads uname, /proc/cpuinfo, /dev/kvm, /dev/vhost-vsock, PATH and the firmware directory.
Result<QemuHostFacts> probe_host(const QemuOptions& options);

}  // namespace vmm::qemu
