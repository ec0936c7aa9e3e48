#include "config/validation.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "config/disk_limits.hpp"
#include "config/ipv4_subnet.hpp"
#include "vmm/config.hpp"
#include "runtime/posix.hpp"

namespace vmm::detail {
namespace fs = std::filesystem;

namespace {

Unexpected invalid(std::string_view field, std::string message) {
  return make_error(Errc::invalid_config, fmt::format("{}: {}", field, message));
}

// Well-formed UTF-8 as RFC 3629 defines it: no overlong forms, no surrogates, nothing above
// U+10FFFF. Every string in a config must be, because configs are JSON documents.
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    std::uint32_t code = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c >> 5) == 0x6) {
      len = 2;
      code = c & 0x1Fu;
    } else if ((c >> 4) == 0xE) {
      len = 3;
      code = c & 0x0Fu;
    } else if ((c >> 3) == 0x1E) {
      len = 4;
      code = c & 0x07u;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cont = static_cast<unsigned char>(s[i + k]);
      if ((cont >> 6) != 0x2) return false;
      code = (code << 6) | (cont & 0x3Fu);
    }
    static constexpr std::uint32_t min_for_length[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < min_for_length[len] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

Result<void> check_utf8(std::string_view field, std::string_view text) {
  // A NUL would cut the text short wherever it reaches a C API (paths, argv).
  if (text.find('\0') != std::string_view::npos) return invalid(field, "contains a NUL byte");
  if (!valid_utf8(text))
    return invalid(field, "is not valid UTF-8 (a config is a JSON document; use a UTF-8 name)");
  return {};
}

Result<void> check_path_text(std::string_view field, const fs::path& path) {
  return check_utf8(field, path.native());
}

// A regular file (or, for disks, a block device) that this process can open as asked.
Result<void> check_file(std::string_view field, const fs::path& path, bool allow_block_device,
                        bool need_write) {
  if (path.empty()) return invalid(field, "no path given");
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) return invalid(field, fmt::format("{} does not exist", path.string()));
  const bool ok_type = fs::is_regular_file(status) || (allow_block_device && fs::is_block_file(status));
  if (!ok_type)
    return invalid(field, fmt::format("{} is not a {}", path.string(),
                                      allow_block_device ? "regular file or block device"
                                                         : "regular file"));
  if (::access(path.c_str(), R_OK) != 0)
    return invalid(field, fmt::format("{} is not readable: {}", path.string(), std::strerror(errno)));
  if (need_write && ::access(path.c_str(), W_OK) != 0)
    return invalid(field, fmt::format("{} is not writable ({}); attach it with read_only = true",
                                      path.string(), std::strerror(errno)));
  return {};
}

Result<void> check_directory(std::string_view field, const fs::path& path) {
  if (path.empty()) return invalid(field, "no directory given");
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) return invalid(field, fmt::format("{} does not exist", path.string()));
  if (!fs::is_directory(status)) return invalid(field, fmt::format("{} is not a directory", path.string()));
  return {};
}

// The directory a file will be created in must exist.
Result<void> check_creatable(std::string_view field, const fs::path& path) {
  if (path.empty()) return invalid(field, "no path given");
  const auto parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(parent, ec))
    return invalid(field, fmt::format("{}: directory {} does not exist", path.string(), parent.string()));
  return {};
}

Result<void> check_open_fd(std::string_view field, int fd) {
  if (fd < 0) return invalid(field, fmt::format("{} is not a file descriptor", fd));
  if (::fcntl(fd, F_GETFD) == -1) return invalid(field, fmt::format("descriptor {} is not open", fd));
  return {};
}

Result<void> check_mtu(std::string_view field, std::uint32_t mtu) {
  if (mtu < 1500 || mtu > 65535)
    return invalid(field, fmt::format("{} is outside 1500..65535", mtu));
  return {};
}

// The kernel's rule for interface names (dev_valid_name): 1..15 bytes, not "." or "..", no '/',
// ':' or white space.
Result<void> check_interface_name(const std::string& field, const std::string& name) {
  if (name.empty()) return invalid(field, "no interface named");
  if (name.size() > 15) {
    return invalid(field, fmt::format("\"{}\" is {} bytes; interface names have at most 15",
                                      name, name.size()));
  }
  if (name == "." || name == "..") {
    return invalid(field, fmt::format("\"{}\" is not an interface name", name));
  }
  for (const char c : name) {
    if (c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
        c == '\f' || c == '\0') {
      return invalid(field, fmt::format("\"{}\" has a character interface names cannot have "
                                        "('/', ':', white space or NUL)",
                                        name));
    }
  }
  return {};
}

Result<void> check_network(std::string_view field, const NetworkAttachment& attachment,
                           HostChecks host) {
  if (const auto* bridged = std::get_if<BridgedNetwork>(&attachment)) {
    const auto interface_field = fmt::format("{}.interface", field);
    if (bridged->interface.empty()) return invalid(interface_field, "no host interface named");
    if (auto r = check_utf8(interface_field, bridged->interface); !r) return r;
  } else if (const auto* handle = std::get_if<FileHandleNetwork>(&attachment)) {
    if (auto r = check_mtu(fmt::format("{}.mtu", field), handle->mtu); !r) return r;
    const auto fd_field = fmt::format("{}.fd", field);
    if (handle->fd < 0) return invalid(fd_field, fmt::format("{} is not a file descriptor", handle->fd));
    if (host == HostChecks::on) {
      if (auto r = check_open_fd(fd_field, handle->fd); !r) return r;
      int type = 0;
      socklen_t len = sizeof(type);
      if (::getsockopt(handle->fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_DGRAM)
        return invalid(fd_field, fmt::format("descriptor {} is not a datagram socket", handle->fd));
    }
  } else if (const auto* unix_dgram = std::get_if<UnixDatagramNetwork>(&attachment)) {
    if (auto r = check_mtu(fmt::format("{}.mtu", field), unix_dgram->mtu); !r) return r;
    const auto& path = unix_dgram->socket.native();
    const auto socket_field = fmt::format("{}.socket", field);
    if (path.empty()) return invalid(socket_field, "no socket path given");
    if (auto r = check_path_text(socket_field, path); !r) return r;
    // The limit is decided in src/runtime/posix.hpp.
    constexpr std::size_t max_path = max_unix_socket_path;
    if (path.size() > max_path)
      return invalid(socket_field, fmt::format("{} is {} bytes, longer than a unix socket address "
                                               "allows ({})", path, path.size(), max_path));
  } else if (const auto* vmnet = std::get_if<VmnetNetwork>(&attachment)) {
    if (vmnet->subnet) return check_ipv4_subnet(fmt::format("{}.subnet", field), *vmnet->subnet);
  } else if (const auto* tap = std::get_if<TapNetwork>(&attachment)) {
    return check_interface_name(fmt::format("{}.ifname", field), tap->ifname);
  }
  return {};
}

Result<void> check_shared_directory(std::string_view field, const SharedDirectory& dir,
                                    HostChecks host) {
  if (dir.directory.empty()) return invalid(field, "no directory given");
  if (auto r = check_path_text(field, dir.directory); !r) return r;
  if (host == HostChecks::on) return check_directory(field, dir.directory);
  return {};
}

}  // namespace

Result<void> check_cpus(std::uint32_t cpus) {
  if (cpus < VmConfig::min_cpus)
    return invalid("cpus", fmt::format("{} is below the minimum of {}", cpus, VmConfig::min_cpus));
  if (cpus > VmConfig::max_cpus)
    return invalid("cpus", fmt::format("{} is above the maximum of {}", cpus, VmConfig::max_cpus));
  return {};
}

Result<void> check_memory(Size memory) {
  if (memory < VmConfig::min_memory)
    return invalid("memory", fmt::format("{} is below the minimum of {}", memory.to_string(),
                                         VmConfig::min_memory.to_string()));
  if (memory.as_bytes() % Size::mib(1).as_bytes() != 0)
    return invalid("memory", fmt::format("{} is not a whole number of MiB", memory.to_string()));
  return {};
}

Result<void> check_boot(const std::optional<Boot>& boot, const std::vector<std::string>& fragments,
                        HostChecks host) {
  if (!boot) return invalid("boot", "no boot loader given (use linux_boot() or efi_boot())");
  if (const auto* linux_boot = std::get_if<LinuxBoot>(&*boot)) {
    if (linux_boot->kernel.empty()) return invalid("boot.kernel", "no kernel path given");
    if (auto r = check_path_text("boot.kernel", linux_boot->kernel); !r) return r;
    if (linux_boot->initrd)
      if (auto r = check_path_text("boot.initrd", *linux_boot->initrd); !r) return r;
    if (auto r = check_utf8("boot.command_line", linux_boot->command_line); !r) return r;
    if (host == HostChecks::on) {
      if (auto r = check_file("boot.kernel", linux_boot->kernel, false, false); !r) return r;
      if (linux_boot->initrd)
        if (auto r = check_file("boot.initrd", *linux_boot->initrd, false, false); !r) return r;
    } else if (linux_boot->initrd && linux_boot->initrd->empty()) {
      return invalid("boot.initrd", "no path given");
    }
    auto all = linux_boot->extra_command_line;
    all.insert(all.end(), fragments.begin(), fragments.end());
    for (std::size_t i = 0; i < all.size(); ++i) {
      const auto fragment_field = fmt::format("boot.extra_command_line[{}]", i);
      if (all[i].empty()) return invalid(fragment_field, "empty fragment");
      if (auto r = check_utf8(fragment_field, all[i]); !r) return r;
    }
    return {};
  }
  const auto& efi = std::get<EfiBoot>(*boot);
  if (!fragments.empty())
    return invalid("boot.extra_command_line", "kernel command-line fragments need a Linux boot");
  if (efi.variable_store.empty()) return invalid("boot.variable_store", "no path given");
  if (auto r = check_path_text("boot.variable_store", efi.variable_store); !r) return r;
  if (host == HostChecks::on) {
    std::error_code ec;
    if (fs::exists(efi.variable_store, ec))
      return check_file("boot.variable_store", efi.variable_store, false, true);
    if (!efi.create_if_missing)
      return invalid("boot.variable_store",
                     fmt::format("{} does not exist and create_if_missing is false",
                                 efi.variable_store.string()));
    return check_creatable("boot.variable_store", efi.variable_store);
  }
  return {};
}

Result<void> check_networks(const std::vector<ConfigAccess::NetworkSpec>& networks,
                            const std::optional<std::vector<MacAddress>>& macs, HostChecks host) {
  if (networks.size() > VmConfig::max_networks)
    return invalid("networks", fmt::format("{} networks given, at most {} are allowed",
                                           networks.size(), VmConfig::max_networks));
  if (macs && macs->size() != networks.size())
    return invalid("macs", fmt::format("{} MAC addresses given for {} networks", macs->size(),
                                       networks.size()));
  std::vector<std::optional<MacAddress>> chosen;
  for (std::size_t i = 0; i < networks.size(); ++i)
    chosen.push_back(macs ? std::optional((*macs)[i]) : networks[i].mac);
  for (std::size_t i = 0; i < networks.size(); ++i) {
    const auto field = fmt::format("networks[{}]", i);
    if (auto r = check_network(field, networks[i].attachment, host); !r) return r;
    if (!chosen[i]) continue;
    const auto mac_field = field + ".mac";
    if (chosen[i]->is_multicast())
      return invalid(mac_field, fmt::format("{} is a multicast address; a NIC needs unicast",
                                            chosen[i]->to_string()));
    if (*chosen[i] == MacAddress())
      return invalid(mac_field, "00:00:00:00:00:00 is not usable");
    for (std::size_t j = 0; j < i; ++j)
      if (chosen[j] == chosen[i])
        return invalid(mac_field, fmt::format("{} is already used by networks[{}]",
                                              chosen[i]->to_string(), j));
  }
  return {};
}

Result<void> check_tag(std::string_view field, std::string_view tag) {
  if (tag.empty()) return invalid(field, "empty tag");
  if (auto r = check_utf8(field, tag); !r) return r;
  if (tag.size() > VmConfig::max_tag_bytes)
    return invalid(field, fmt::format("\"{}\" is {} bytes of UTF-8, at most {} are allowed", tag,
                                      tag.size(), VmConfig::max_tag_bytes));
  return {};
}

Result<void> check_shares(const std::vector<VirtiofsShare>& shares,
                          const std::optional<std::string>& rosetta_tag, HostChecks host) {
  std::vector<std::pair<std::string, std::string>> seen;  // tag, field that used it
  auto claim = [&](const std::string& field, const std::string& tag) -> Result<void> {
    for (const auto& [other_tag, other_field] : seen)
      if (other_tag == tag)
        return invalid(field, fmt::format("\"{}\" is already used by {}", tag, other_field));
    seen.emplace_back(tag, field.substr(0, field.rfind('.')));
    return {};
  };
  for (std::size_t i = 0; i < shares.size(); ++i) {
    const auto field = fmt::format("shares[{}]", i);
    const auto tag_field = field + ".tag";
    if (auto r = check_tag(tag_field, shares[i].tag); !r) return r;
    if (auto r = claim(tag_field, shares[i].tag); !r) return r;
    if (const auto* single = std::get_if<SharedDirectory>(&shares[i].source)) {
      if (auto r = check_shared_directory(field + ".directory", *single, host); !r) return r;
      continue;
    }
    const auto& dirs = std::get<std::map<std::string, SharedDirectory>>(shares[i].source);
    if (dirs.empty()) return invalid(field + ".directories", "no directories given");
    for (const auto& [name, dir] : dirs) {
      const auto dir_field = fmt::format("{}.directories[\"{}\"]", field, name);
      // Each name becomes a directory entry in the guest's mount.
      if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
          name.find('\0') != std::string::npos || !valid_utf8(name))
        return invalid(dir_field, "a name must be a single path component (no '/', '.' or '..')");
      if (auto r = check_shared_directory(dir_field, dir, host); !r) return r;
    }
  }
  if (rosetta_tag) {
    if (auto r = check_tag("rosetta_tag", *rosetta_tag); !r) return r;
    if (auto r = claim("rosetta_tag", *rosetta_tag); !r) return r;
  }
  return {};
}

Result<void> check_disks(const std::vector<DiskImage>& disks, HostChecks host) {
  if (disks.size() > VmConfig::max_disks)
    return invalid("disks", fmt::format("{} block devices given, at most {} are allowed",
                                        disks.size(), VmConfig::max_disks));
  for (std::size_t i = 0; i < disks.size(); ++i) {
    const auto& disk = disks[i];
    const auto field = fmt::format("disks[{}]", i);
    if (disk.path.empty()) return invalid(field + ".path", "no path given");
    if (auto r = check_path_text(field + ".path", disk.path); !r) return r;
    if (host == HostChecks::on)
      if (auto r = check_file(field + ".path", disk.path, true, !disk.read_only); !r) return r;
    if (disk.device_id) {
      const auto& id = *disk.device_id;
      const auto id_field = field + ".device_id";
      if (id.empty()) return invalid(id_field, "empty identifier");
      if (id.size() > VmConfig::max_device_id_bytes)
        return invalid(id_field, fmt::format("\"{}\" is {} bytes, at most {} are allowed", id,
                                             id.size(), VmConfig::max_device_id_bytes));
      for (char c : id)
        if (c < 0x20 || c > 0x7E)
          return invalid(id_field, fmt::format("\"{}\" has a character that is not printable ASCII", id));
    }
    if (auto r = check_disk_limits(field, disk.limits); !r) return r;
  }
  return {};
}

Result<void> check_serial(const SerialConsole& serial, HostChecks host) {
  if (const auto* file = std::get_if<SerialToFile>(&serial)) {
    if (file->path.empty()) return invalid("serial.path", "no path given");
    if (auto r = check_path_text("serial.path", file->path); !r) return r;
    if (host == HostChecks::on) {
      std::error_code ec;
      if (fs::is_directory(file->path, ec))
        return invalid("serial.path", fmt::format("{} is a directory", file->path.string()));
      return check_creatable("serial.path", file->path);
    }
  } else if (const auto* fd = std::get_if<SerialToFd>(&serial)) {
    if (fd->fd < 0) return invalid("serial.fd", fmt::format("{} is not a file descriptor", fd->fd));
    if (host == HostChecks::on) return check_open_fd("serial.fd", fd->fd);
  }
  return {};
}

Result<void> check_single_devices(int vsock_count, int balloon_count) {
  if (vsock_count > 1)
    return invalid("vsock", fmt::format("{} vsock devices given, at most 1 is allowed", vsock_count));
  if (balloon_count > 1)
    return invalid("balloon",
                   fmt::format("{} memory balloons given, at most 1 is allowed", balloon_count));
  return {};
}

Result<void> check_machine_identifier(const std::optional<std::vector<std::uint8_t>>& identifier) {
  if (identifier && identifier->empty()) return invalid("machine_identifier", "empty identifier");
  return {};
}

Result<void> check_ipv4_subnet(std::string_view field, std::string_view subnet) {
  if (auto parsed = parse_ipv4_subnet(subnet); !parsed) return invalid(field, parsed.error().message());
  return {};
}

}  // namespace vmm::detail
