// A VmConfig and Settings as the canonical vfkit arguments (the other half of parse.cpp).
// Whatever vfkit's grammar cannot carry exactly is an error naming it, so that the arguments
// always read back to the same machine.
#include <string>
#include <unistd.h>

#include "vmm/vfkit.hpp"

namespace vmm::vfkit {
namespace {

Unexpected cannot(std::string what) {
  return make_error(Errc::invalid_config, "vfkit arguments cannot express " + std::move(what));
}

// A value inside a plain-comma --device list: no comma (it would split), and not empty.
Result<std::string> device_value(std::string_view what, const std::string& value) {
  if (value.find(',') != std::string::npos)
    return cannot(std::string(what) + " \"" + value + "\" (a comma splits --device options)");
  return value;
}

// A `key=value` piece of a quote-aware list: quoted whole when it has a comma; a quote inside,
// or one at an end that the reader would trim, cannot be written.
Result<std::string> quoted_piece(std::string_view what, const std::string& key, const std::string& value) {
  if (value.find('"') != std::string::npos) return cannot(std::string(what) + " with a \" in it");
  const auto piece = key.empty() ? value : key + "=" + value;
  if (piece.find(',') != std::string::npos) return "\"" + piece + "\"";
  return piece;
}

Result<void> add_boot(const Boot& boot, std::vector<std::string>& args) {
  if (const auto* efi = std::get_if<EfiBoot>(&boot)) {
    auto store = quoted_piece("an EFI variable store path", "variable-store", efi->variable_store.string());
    if (!store) return std::move(store).error();
    args.push_back("--bootloader");
    args.push_back("efi," + *store + (efi->create_if_missing ? ",create" : ""));
    return {};
  }
  const auto& linux_boot = std::get<LinuxBoot>(boot);
  if (!linux_boot.extra_command_line.empty())
    return cannot("kernel command-line fragments apart from the command line");
  if (linux_boot.initrd) {
    // The legacy flags carry any text: nothing is split.
    args.insert(args.end(), {"--kernel", linux_boot.kernel.string(), "--initrd",
                             linux_boot.initrd->string(), "--kernel-cmdline", linux_boot.command_line});
    return {};
  }
  auto kernel = quoted_piece("a kernel path", "kernel", linux_boot.kernel.string());
  if (!kernel) return std::move(kernel).error();
  std::string value = "linux," + *kernel;
  if (!linux_boot.command_line.empty()) {
    if (linux_boot.command_line.find('"') != std::string::npos)
      return cannot("a kernel command line with a \" in it and no initrd");
    value += ",cmdline=\"" + linux_boot.command_line + "\"";
  }
  args.insert(args.end(), {"--bootloader", value});
  return {};
}

Result<void> add_disk(const DiskImage& disk, std::vector<std::string>& args) {
  const auto name = disk.path.string();
  if (disk.format != DiskFormat::raw) return cannot("the " + std::string(to_string(disk.format)) + " disk " + name);
  if (disk.caching != CachingMode::cached || disk.sync != SyncMode::fsync)
    return cannot("the caching or sync mode of disk " + name);
  const char* kind = disk.bus == BlockBus::nvme ? "nvme" : disk.bus == BlockBus::usb ? "usb-mass-storage" : "virtio-blk";
  auto path = device_value("the disk path", name);
  if (!path) return std::move(path).error();
  if (path->empty()) return cannot("an empty disk path");
  std::string value = std::string(kind) + ",path=" + *path;
  if (disk.read_only) value += ",readonly";
  if (disk.device_id) {
    if (disk.bus != BlockBus::virtio) return cannot("a device id on the " + std::string(kind) + " disk " + name);
    auto id = device_value("the disk device id", *disk.device_id);
    if (!id) return std::move(id).error();
    value += ",deviceId=" + *id;
  }
  args.insert(args.end(), {"--device", value});
  return {};
}

Result<void> add_network(const NetworkDevice& network, std::vector<std::string>& args) {
  std::string value = "virtio-net";
  if (std::holds_alternative<NatNetwork>(network.attachment)) {
    value += ",nat";
  } else if (const auto* fd = std::get_if<FileHandleNetwork>(&network.attachment)) {
    if (fd->mtu != 1500) return cannot("a network MTU other than 1500");
    value += ",fd=" + std::to_string(fd->fd);
  } else if (const auto* unix = std::get_if<UnixDatagramNetwork>(&network.attachment)) {
    if (unix->mtu != 1500) return cannot("a network MTU other than 1500");
    auto path = device_value("the network socket path", unix->socket.string());
    if (!path) return std::move(path).error();
    if (path->empty()) return cannot("an empty network socket path");
    value += ",type=unixgram,path=" + *path + ",vfkitMagic=off";
  } else {
    return cannot("a " + std::string(network_kind(network.attachment)) + " network");
  }
  value += ",mac=" + network.mac.to_string();
  args.insert(args.end(), {"--device", value});
  return {};
}

Result<void> add_share(const VirtiofsShare& share, std::vector<std::string>& args) {
  const auto* single = std::get_if<SharedDirectory>(&share.source);
  if (!single) return cannot("the multi-directory share " + share.tag);
  if (single->read_only) return cannot("the read-only share " + share.tag);
  auto dir = device_value("the shared directory", single->directory.string());
  if (!dir) return std::move(dir).error();
  auto tag = device_value("the mount tag", share.tag);
  if (!tag) return std::move(tag).error();
  args.insert(args.end(), {"--device", "virtio-fs,sharedDir=" + *dir + ",mountTag=" + *tag});
  return {};
}

Result<void> add_vsock(const Settings& settings, std::vector<std::string>& args) {
  if (settings.vsock_exposures.empty()) args.insert(args.end(), {"--device", "virtio-vsock"});
  for (const auto& exposure : settings.vsock_exposures) {
    auto socket = device_value("the vsock socket path", exposure.socket.string());
    if (!socket) return std::move(socket).error();
    if (socket->empty() || exposure.port == 0) return cannot("a vsock exposure without port and socket");
    args.insert(args.end(), {"--device", "virtio-vsock,port=" + std::to_string(exposure.port) +
                                             ",socketURL=" + *socket +
                                             (exposure.listen ? ",listen" : ",connect")});
  }
  return {};
}

Result<void> add_serial(const SerialConsole& serial, std::vector<std::string>& args) {
  if (std::holds_alternative<std::monostate>(serial)) return {};
  if (const auto* fd = std::get_if<SerialToFd>(&serial)) {
    if (fd->fd != STDOUT_FILENO) return cannot("a serial console on descriptor " + std::to_string(fd->fd));
    args.insert(args.end(), {"--device", "virtio-serial,stdio"});
    return {};
  }
  const auto& file = std::get<SerialToFile>(serial);
  if (file.append) return cannot("a serial log that is appended to (vfkit truncates it)");
  auto path = device_value("the serial log path", file.path.string());
  if (!path) return std::move(path).error();
  if (path->empty()) return cannot("an empty serial log path");
  args.insert(args.end(), {"--device", "virtio-serial,logFilePath=" + *path});
  return {};
}

Result<void> add_settings(const VmConfig& config, const Settings& settings, std::vector<std::string>& args) {
  if ((settings.timesync_vsock_port || settings.ignition) && !config.vsock())
    return cannot("--timesync or --ignition without the machine's vsock device");
  if (settings.timesync_vsock_port) {
    if (*settings.timesync_vsock_port == 0) return cannot("--timesync on vsock port 0");
    args.insert(args.end(), {"--timesync", "vsockPort=" + std::to_string(*settings.timesync_vsock_port)});
  }
  if (settings.ignition) {
    auto file = device_value("the ignition file", settings.ignition->string());
    if (!file) return std::move(file).error();
    if (file->empty()) return cannot("an empty ignition path");
    args.insert(args.end(), {"--ignition", *file});
  }
  if (!settings.cloud_init.empty()) {
    std::string list;
    for (const auto& file : settings.cloud_init) {
      if (file.empty()) return cannot("an empty cloud-init path");
      auto piece = quoted_piece("a cloud-init path", "", file.string());
      if (!piece) return std::move(piece).error();
      list += (list.empty() ? "" : ",") + *piece;
    }
    args.insert(args.end(), {"--cloud-init", list});
  }
  if (settings.rest.scheme != RestEndpoint::Scheme::none) {
    auto text = to_string(settings.rest);
    auto back = parse_restful_uri(text);
    if (!back || *back != settings.rest) return cannot("the REST endpoint " + text);
    args.insert(args.end(), {"--restful-uri", text});
  }
  if (settings.pidfile) {
    if (settings.pidfile->empty()) return cannot("an empty pidfile path");
    args.insert(args.end(), {"--pidfile", settings.pidfile->string()});
  }
  if (settings.log_level) args.insert(args.end(), {"--log-level", std::string(to_string(*settings.log_level))});
  return {};
}

}  // namespace

Result<std::vector<std::string>> to_command_line(const VmConfig& config, const Settings& settings) {
  std::vector<std::string> args;
  if (config.memory().as_bytes() % Size::mib(1).as_bytes() != 0)
    return cannot("memory that is not a whole number of MiB");
  args.insert(args.end(), {"--cpus", std::to_string(config.cpus()), "--memory",
                           std::to_string(config.memory().as_mib())});
  if (auto ok = add_boot(config.boot(), args); !ok) return std::move(ok).error();
  for (const auto& disk : config.disks())
    if (auto ok = add_disk(disk, args); !ok) return std::move(ok).error();
  for (const auto& network : config.networks())
    if (auto ok = add_network(network, args); !ok) return std::move(ok).error();
  for (const auto& share : config.shares())
    if (auto ok = add_share(share, args); !ok) return std::move(ok).error();
  if (config.rosetta_tag()) {
    auto tag = device_value("the rosetta mount tag", *config.rosetta_tag());
    if (!tag) return std::move(tag).error();
    args.insert(args.end(), {"--device", "rosetta,mountTag=" + *tag});
  }
  if (config.vsock()) {
    if (auto ok = add_vsock(settings, args); !ok) return std::move(ok).error();
  } else if (!settings.vsock_exposures.empty()) {
    return cannot("vsock exposures without the machine's vsock device");
  }
  if (auto ok = add_serial(config.serial(), args); !ok) return std::move(ok).error();
  if (config.entropy()) args.insert(args.end(), {"--device", "virtio-rng"});
  if (config.balloon()) args.insert(args.end(), {"--device", "virtio-balloon"});
  if (config.nested_virtualization()) args.push_back("--nested");
  if (!config.machine_identifier_generated()) return cannot("a given machine identifier");
  if (auto ok = add_settings(config, settings, args); !ok) return std::move(ok).error();
  return args;
}

}  // namespace vmm::vfkit
