// vmm internal (QEMU backend): how a share's virtiofsd is started and confined (pure).
//
// virtiofsd (QEMU 7.2's C daemon, /usr/lib/qemu/virtiofsd) is confined in the spirit of
// CreateOptions::isolation, as far as a file server can be:
//  - its own sandbox, asked for explicitly (`-o sandbox=namespace`): new mount, pid and network
//    namespaces and a pivot_root into the shared directory, so the only files it can reach are
//    the share's, and it has no network at all (its network namespace is a new, empty one);
//  - its own seccomp filter, which this virtiofsd always installs (no option turns it off);
//  - the VM's cgroup and network namespace, entered before exec like QEMU's (run.cpp), so that
//    the cgroup's limits and accounting cover the VM's file serving too; the namespace sandbox
//    then unshares a fresh network namespace from there;
//  - only its listening socket as a descriptor (process.hpp).
// It is not given the VM's uid/gid or jail: it must stay root to serve files owned by any user
// (it keeps CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, ... and needs CAP_SYS_ADMIN to set up its
// namespaces), and its pivot_root into the share is a tighter jail than the VM's.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace vmm::qemu {

// The argv of the daemon serving `directory` on the listening socket passed as descriptor 3.
std::vector<std::string> virtiofsd_arguments(const std::filesystem::path& binary,
                                             const std::filesystem::path& directory);

}  // namespace vmm::qemu
