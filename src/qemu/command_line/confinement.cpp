// vmm internal (QEMU backend): the confinement flags of the QEMU command line (pure).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "qemu/command_line.hpp"
#include "qemu/confinement.hpp"

namespace vmm::qemu {

Result<std::vector<std::string>> confinement_arguments(const Isolation& isolation,
                                                       const QemuCapabilities& caps,
                                                       const std::string& binary) {
  if (isolation.uid.has_value() != isolation.gid.has_value()) {
    return make_error(Errc::invalid_config,
                      isolation.uid ? "isolation.gid: a uid is set without a gid (give both)"
                                    : "isolation.uid: a gid is set without a uid (give both)");
  }
  std::vector<std::string> argv;
  const bool sandbox = isolation.sandbox == Sandbox::required ||
                       (isolation.sandbox == Sandbox::automatic && caps.sandbox);
  if (sandbox) {
    if (!caps.sandbox) {
      return make_error(Errc::unsupported,
                        fmt::format("isolation.sandbox: required, but {} has no -sandbox (it was "
                                    "built without seccomp)",
                                    binary));
    }
    argv.emplace_back("-sandbox");
    argv.push_back(fmt::format(
        "on,obsolete=deny,elevateprivileges={},spawn=deny,resourcecontrol=deny",
        isolation.uid ? "allow" : "deny"));
  }
  std::vector<std::string> run_with;
  if (!isolation.jail.empty()) {
    if (caps.run_with_chroot) {
      run_with.push_back("chroot=" + escape_option_value(isolation.jail.string()));
    } else if (caps.chroot_option) {
      argv.emplace_back("-chroot");
      argv.push_back(isolation.jail.string());
    } else {
      return make_error(Errc::unsupported,
                        fmt::format("isolation.jail: {} has neither -chroot nor -run-with chroot=",
                                    binary));
    }
  }
  if (isolation.uid) {
    const auto user = fmt::format("{}:{}", *isolation.uid, *isolation.gid);
    if (caps.run_with_user) {
      run_with.push_back("user=" + user);
    } else if (caps.runas_option) {
      argv.emplace_back("-runas");
      argv.push_back(user);
    } else {
      return make_error(Errc::unsupported,
                        fmt::format("isolation.uid: {} has neither -runas nor -run-with user=",
                                    binary));
    }
  }
  if (!run_with.empty()) {
    argv.emplace_back("-run-with");
    argv.push_back(fmt::format("{}", fmt::join(run_with, ",")));
  }
  return argv;
}

}  // namespace vmm::qemu
