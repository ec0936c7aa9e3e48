// vmm internal (Virtualization.framework backend): CreateOptions::isolation is refused.
#include "vz/isolation.hpp"

#include <string>

namespace vmm::vz {
namespace {

Unexpected refuse(std::string_view option, std::string_view what) {
  return make_error(Errc::unsupported,
                    std::string("isolation.") + std::string(option) + ": " + std::string(what) +
                        " is not available on Virtualization.framework, which runs the VM in its "
                        "own XPC service that macOS sandboxes; vmm cannot confine it further");
}

}  // namespace

Result<void> check_isolation(const Isolation& isolation) {
  if (isolation.sandbox == Sandbox::required) return refuse("sandbox", "a seccomp sandbox");
  if (isolation.sandbox == Sandbox::off) {
    return refuse("sandbox", "switching the framework's sandbox off");
  }
  if (isolation.uid || isolation.gid) {
    return refuse(isolation.uid ? "uid" : "gid", "running the VM as another user");
  }
  if (!isolation.jail.empty()) return refuse("jail", "a chroot jail");
  if (!isolation.network_namespace.empty()) {
    return refuse("network_namespace", "a network namespace (a Linux feature)");
  }
  if (!isolation.cgroup.empty()) return refuse("cgroup", "a cgroup (a Linux feature)");
  return {};
}

}  // namespace vmm::vz
