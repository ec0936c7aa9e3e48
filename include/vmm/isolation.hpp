// vmm: confining the hypervisor process (CreateOptions::isolation).
//
// QEMU backend (Linux): a seccomp sandbox, an unprivileged uid/gid, a chroot jail, a network
// namespace joined before exec, and a cgroup the process is placed into. Every option is checked
// when the VM is created, with an error naming it. Virtualization.framework runs each VM in its
// own XPC service: there every option set here is `unsupported` (sandbox `automatic` is not an
// option set, it means "whatever the backend can do").
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

namespace vmm {

enum class Sandbox {
  automatic,  // QEMU's seccomp sandbox when the QEMU binary has one, none otherwise
  required,   // the sandbox, or `unsupported` at create when QEMU has none
  off,        // no sandbox (explicitly)
};
std::string_view to_string(Sandbox sandbox) noexcept;

struct Isolation {
  Sandbox sandbox = Sandbox::automatic;
  // The hypervisor drops to this uid and gid (its only group) once it has opened its files.
  // Both or neither; switching needs root.
  std::optional<std::uint32_t> uid;
  std::optional<std::uint32_t> gid;
  // A directory the hypervisor chroots into once it has opened its files. Anything it opens
  // later is passed as a descriptor (the state file of save/restore) or must be inside it.
  std::filesystem::path jail;
  // A network namespace to run in, joined before exec: /var/run/netns/NAME or /proc/PID/ns/net.
  // Tap interfaces are looked up inside it.
  std::filesystem::path network_namespace;
  // A cgroup directory (v2, or a v1 hierarchy) the hypervisor process is placed into before
  // exec. The caller creates it and sets its limits.
  std::filesystem::path cgroup;

  bool confines() const {
    return sandbox == Sandbox::required || uid || gid || !jail.empty() ||
           !network_namespace.empty() || !cgroup.empty();
  }
};

}  // namespace vmm
