// vmm internal (QEMU backend): CreateOptions::isolation, decided and checked.
//
// Decided (pure, command_line/confinement.cpp): QEMU's own flags for the sandbox, the uid/gid
// drop and the chroot. Checked against the host (confinement_host.cpp) at create: the jail is a
// directory, the network namespace is one, the cgroup is one, and this process may switch
// uid and join namespaces. Acted on at each launch (run.cpp): the network namespace and the
// cgroup are entered in the child before exec (process.hpp, ChildSetup).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "qemu/capabilities.hpp"
#include "qemu/process.hpp"
#include "vmm/file_descriptor.hpp"
#include "vmm/error.hpp"
#include "vmm/isolation.hpp"

namespace vmm::qemu {

// The argv QEMU gets for `isolation` (appended after the rest of its command line).
// The sandbox denies obsolete calls, spawning, resource control and privilege changes. With a
// uid drop, privilege changes stay allowed: QEMU (7.2, measured) installs its seccomp filter
// before -runas calls setgid/setgroups/setuid, and `elevateprivileges=deny` (or `children`)
// kills it there with SIGSYS. After the drop QEMU holds no capabilities, so those calls cannot
// regain anything; spawn=deny still forbids exec.
// Errors: invalid_config for a uid without a gid (or the reverse); unsupported, naming the
// option, when this QEMU has no flag for it.
Result<std::vector<std::string>> confinement_arguments(const Isolation& isolation,
                                                       const QemuCapabilities& caps,
                                                       const std::string& binary);

// The file that takes a pid for `cgroup`: cgroup.procs on cgroup2, tasks on a v1 hierarchy.
// invalid_config naming isolation.cgroup when the directory is not a cgroup.
Result<std::filesystem::path> cgroup_membership_file(const std::filesystem::path& cgroup);

// The host checks of every option (see the top of this file), each error naming its option.
Result<void> check_confinement_host(const Isolation& isolation);

// At create: QEMU's capabilities, the checks above, and the flags to append to its argv.
Result<std::vector<std::string>> plan_confinement(const Isolation& isolation,
                                                  const std::filesystem::path& binary);

// At each launch: the descriptors the child uses before exec (ChildSetup), held open until the
// child has exec'ed.
struct LaunchConfinement {
  FileDescriptor cgroup_procs;
  FileDescriptor network_namespace;
  ChildSetup setup() const { return {cgroup_procs.get(), network_namespace.get()}; }
};
Result<LaunchConfinement> open_confinement(const Isolation& isolation);

}  // namespace vmm::qemu
