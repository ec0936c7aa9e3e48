// vmm internal (QEMU backend): the host checks of CreateOptions::isolation, at create.
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "qemu/confinement.hpp"
#include "vmm/file_descriptor.hpp"
#include "vmm/logging.hpp"

namespace vmm::qemu {
namespace {

std::string quoted(const std::filesystem::path& path) { return fmt::format("'{}'", path.string()); }

Result<void> check_directory(const std::filesystem::path& path, std::string_view option) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) {
    return make_error(Errc::invalid_config,
                      fmt::format("isolation.{}: {} is not a directory{}", option, quoted(path),
                                  ec ? fmt::format(" ({})", ec.message()) : std::string{}));
  }
  return {};
}

Result<void> check_root(std::string_view option, std::string_view what) {
  if (::geteuid() == 0) return {};
  return make_error(Errc::invalid_config,
                    fmt::format("isolation.{}: {} needs root, and this process runs as uid {}",
                                option, what, ::geteuid()));
}

Result<void> check_network_namespace(const std::filesystem::path& path) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return make_error(errno == ENOENT ? Errc::not_found : Errc::invalid_config,
                      fmt::format("isolation.network_namespace: cannot open {}: {}", quoted(path),
                                  std::strerror(errno)));
  }
  // NS_GET_NSTYPE answers only on namespace files (nsfs); anything else is ENOTTY.
  const int type = ::ioctl(fd.get(), NS_GET_NSTYPE);
  if (type != CLONE_NEWNET) {
    return make_error(Errc::invalid_config,
                      fmt::format("isolation.network_namespace: {} is not a network namespace "
                                  "(give /var/run/netns/NAME or /proc/PID/ns/net)",
                                  quoted(path)));
  }
  return check_root("network_namespace", "joining a network namespace");
}

}  // namespace

Result<std::filesystem::path> cgroup_membership_file(const std::filesystem::path& cgroup) {
  if (auto dir = check_directory(cgroup, "cgroup"); !dir) return dir.error();
  struct statfs fs {};
  if (::statfs(cgroup.c_str(), &fs) != 0) {
    return make_error(Errc::invalid_config, fmt::format("isolation.cgroup: {}: {}", quoted(cgroup),
                                                        std::strerror(errno)));
  }
  if (fs.f_type == CGROUP2_SUPER_MAGIC) return cgroup / "cgroup.procs";
  if (fs.f_type == CGROUP_SUPER_MAGIC) return cgroup / "tasks";
  return make_error(Errc::invalid_config,
                    fmt::format("isolation.cgroup: {} is not a cgroup (its file system is "
                                "neither cgroup2 nor a cgroup v1 hierarchy)",
                                quoted(cgroup)));
}

Result<void> check_confinement_host(const Isolation& isolation) {
  if (!isolation.jail.empty()) {
    if (auto dir = check_directory(isolation.jail, "jail"); !dir) return dir;
    if (auto root = check_root("jail", "chroot"); !root) return root;
  }
  if (isolation.uid) {
    if (auto root = check_root("uid", fmt::format("switching to uid {}", *isolation.uid)); !root) {
      return root;
    }
  }
  if (!isolation.network_namespace.empty()) {
    if (auto netns = check_network_namespace(isolation.network_namespace); !netns) return netns;
  }
  if (!isolation.cgroup.empty()) {
    auto file = cgroup_membership_file(isolation.cgroup);
    if (!file) return file.error();
    if (::access(file->c_str(), W_OK) != 0) {
      return make_error(Errc::invalid_config,
                        fmt::format("isolation.cgroup: cannot write {}: {}", quoted(*file),
                                    std::strerror(errno)));
    }
  }
  return {};
}

Result<std::vector<std::string>> plan_confinement(const Isolation& isolation,
                                                  const std::filesystem::path& binary) {
  auto caps = probe_qemu_capabilities(binary);
  if (!caps) {
    // Only an option that was asked for needs the answer; `automatic` then means no sandbox.
    if (isolation.confines()) return caps.error();
    vmm::logger()->debug("qemu: no sandbox ({})", caps.error().message());
    caps = QemuCapabilities{};
  }
  auto argv = confinement_arguments(isolation, *caps, binary.string());
  if (!argv) return argv;
  if (auto host = check_confinement_host(isolation); !host) return host.error();
  return argv;
}

Result<LaunchConfinement> open_confinement(const Isolation& isolation) {
  LaunchConfinement opened;
  if (!isolation.cgroup.empty()) {
    auto file = cgroup_membership_file(isolation.cgroup);
    if (!file) return file.error();
    opened.cgroup_procs.reset(::open(file->c_str(), O_WRONLY | O_CLOEXEC));
    if (!opened.cgroup_procs) {
      return make_error(Errc::io, fmt::format("isolation.cgroup: cannot open {}: {}",
                                              quoted(*file), std::strerror(errno)));
    }
  }
  if (!isolation.network_namespace.empty()) {
    opened.network_namespace.reset(::open(isolation.network_namespace.c_str(),
                                          O_RDONLY | O_CLOEXEC));
    if (!opened.network_namespace) {
      return make_error(Errc::io, fmt::format("isolation.network_namespace: cannot open {}: {}",
                                              quoted(isolation.network_namespace),
                                              std::strerror(errno)));
    }
  }
  return opened;
}

}  // namespace vmm::qemu
