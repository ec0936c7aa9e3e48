// The --device forms. Each parser reads its options in order (the last duplicate wins) and
// rejects what vfkit rejects; forms vmm cannot run are `unsupported`, naming the form.
#include <charconv>
#include <string>
#include <unistd.h>

#include "vfkit/machine.hpp"
#include "vfkit/options.hpp"

namespace vmm::vfkit::detail {
namespace {

Unexpected unsupported(std::string message) { return make_error(Errc::unsupported, std::move(message)); }

// A flag-style option (`readonly`) given a value.
Unexpected unexpected_value(std::string_view device, const Option& option) {
  return bad(std::string(device) + ": unexpected value for " + option.key + ": " + option.value);
}

Unexpected unknown(std::string_view device, const Option& option) {
  return bad(std::string(device) + ": unknown option " + option.key);
}

Result<void> disk(std::string_view device, BlockBus bus, const std::vector<Option>& options,
                  MachineSink& sink) {
  DiskImage image;
  image.bus = bus;
  for (const auto& option : options) {
    if (option.key == "path") {
      image.path = option.value;
    } else if (option.key == "type") {
      // image or dev (a block device): vmm tells them apart itself.
      if (option.value != "image" && option.value != "dev" && !option.value.empty())
        return bad(std::string(device) + ": unexpected value for type: " + option.value);
    } else if (option.key == "readonly") {
      if (option.has_value) return unexpected_value(device, option);
      image.read_only = true;
    } else if (option.key == "deviceId" && bus == BlockBus::virtio) {
      image.device_id = option.value;
    } else {
      return unknown(device, option);
    }
  }
  if (image.path.empty()) return bad(std::string(device) + ": needs path=");
  sink.builder.disk(std::move(image));
  return {};
}

Result<void> network(const std::vector<Option>& options, MachineSink& sink) {
  constexpr std::string_view device = "virtio-net";
  bool nat = false, has_type = false, magic = false;
  std::optional<int> fd;
  std::optional<std::string> path;
  std::optional<MacAddress> mac;
  std::string type_only;  // the first option that needs type=
  for (const auto& option : options)
    if (option.key == "path" || option.key == "unixSocketPath") magic = true;
  for (const auto& option : options) {
    if (option.key == "nat") {
      if (option.has_value) return unexpected_value(device, option);
      nat = true;
    } else if (option.key == "mac") {
      auto parsed = MacAddress::parse(option.value);
      if (!parsed) return bad("virtio-net: mac: " + parsed.error().message());
      mac = *parsed;
    } else if (option.key == "fd") {
      auto n = parse_decimal("virtio-net: fd", option.value, 0, 2147483647);
      if (!n) return std::move(n).error();
      fd = static_cast<int>(*n);
    } else if (option.key == "unixSocketPath") {
      path = option.value;
    } else if (option.key == "type") {
      if (option.value != "unixgram")
        return bad("virtio-net: unsupported type " + option.value + " (only unixgram)");
      has_type = true;
    } else if (option.key == "path") {
      path = option.value;
      if (type_only.empty()) type_only = option.key;
    } else if (option.key == "vfkitMagic") {
      if (option.value != "on" && option.value != "off")
        return bad("virtio-net: vfkitMagic takes on or off, not " + option.value);
      magic = option.value == "on";
    } else if (option.key == "offloading") {
      if (option.value != "off") return bad("virtio-net: offloading takes only off, not " + option.value);
      if (type_only.empty()) type_only = option.key;
    } else {
      return unknown(device, option);
    }
  }
  if (has_type && (!path || path->empty())) return bad("virtio-net: type needs path=");
  if (!has_type && !type_only.empty()) return bad("virtio-net: " + type_only + " needs type=unixgram");
  const bool has_path = path && !path->empty();
  if (nat + fd.has_value() + has_path > 1)
    return bad("virtio-net: give only one of nat, fd and unixSocketPath/path");
  if (!nat && !fd && !has_path) return bad("virtio-net: needs one of nat, fd or unixSocketPath/path");
  if (nat) sink.builder.nat_network(mac);
  else if (fd) sink.builder.network(FileHandleNetwork{*fd, 1500}, mac);
  else if (magic)
    return unsupported("virtio-net: vfkitMagic=on (the \"VFKT\" greeting gvproxy expects) is not "
                       "sent by vmm; use type=unixgram,path=" + *path + ",vfkitMagic=off");
  else sink.builder.network(UnixDatagramNetwork{*path, 1500}, mac);
  return {};
}

Result<void> vsock(const std::vector<Option>& options, MachineSink& sink) {
  VsockExposure exposure;
  bool has_port = false;
  for (const auto& option : options) {
    if (option.key == "socketURL") {
      exposure.socket = option.value;
    } else if (option.key == "port") {
      auto n = parse_decimal("virtio-vsock: port", option.value, 0, 0xffffffffULL);
      if (!n) return std::move(n).error();
      exposure.port = static_cast<std::uint32_t>(*n);
      has_port = true;
    } else if (option.key == "listen") {
      exposure.listen = true;
    } else if (option.key == "connect") {
      exposure.listen = false;
    } else {
      return unknown("virtio-vsock", option);
    }
  }
  sink.vsock = true;
  if (exposure.socket.empty()) return {};  // a device only, nothing exposed (as vfkit)
  if (!has_port || exposure.port == 0)
    return bad("virtio-vsock: socketURL=" + exposure.socket.string() + " needs a port= above 0");
  sink.settings.vsock_exposures.push_back(std::move(exposure));
  return {};
}

Result<void> serial(const std::vector<Option>& options, MachineSink& sink) {
  std::optional<std::string> log_file;
  bool stdio = false, pty = false;
  for (const auto& option : options) {
    if (option.key == "logFilePath") log_file = option.value;
    else if (option.key == "stdio") {
      if (option.has_value) return unexpected_value("virtio-serial", option);
      stdio = true;
    } else if (option.key == "pty") pty = true;
    else return unknown("virtio-serial", option);
  }
  const bool has_file = log_file && !log_file->empty();
  if (has_file + stdio + pty > 1) return bad("virtio-serial: give only one of logFilePath, stdio and pty");
  if (!has_file && !stdio && !pty) return bad("virtio-serial: needs one of logFilePath, stdio or pty");
  if (pty) return unsupported("virtio-serial,pty: vmm has no pseudo-terminal console");
  // vfkit truncates the log file (no append); stdio is the guest console on this process's
  // standard output.
  if (stdio) sink.builder.serial(SerialToFd{STDOUT_FILENO});
  else sink.builder.serial(SerialToFile{*log_file, false});
  return {};
}

Result<void> no_options(std::string_view device, const std::vector<Option>& options) {
  if (!options.empty()) return unknown(device, options.front());
  return {};
}

}  // namespace

Result<std::uint64_t> parse_decimal(std::string_view what, std::string_view text, std::uint64_t min,
                                    std::uint64_t max) {
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  const bool digits = !text.empty() && text.front() >= '0' && text.front() <= '9';
  const auto [last, ec] = std::from_chars(text.data(), end, value);
  if (!digits || ec != std::errc() || last != end || value < min || value > max)
    return bad(std::string(what) + ": \"" + std::string(text) + "\" is not a whole number from " +
               std::to_string(min) + " to " + std::to_string(max));
  return value;
}

Result<void> add_device(std::string_view text, MachineSink& sink) {
  const auto pieces = split_plain(text);
  const auto& kind = pieces.front();
  const auto options = to_options(pieces, 1);
  if (kind == "virtio-blk") return disk(kind, BlockBus::virtio, options, sink);
  if (kind == "nvme") return disk(kind, BlockBus::nvme, options, sink);
  if (kind == "usb-mass-storage") return disk(kind, BlockBus::usb, options, sink);
  if (kind == "virtio-net") return network(options, sink);
  if (kind == "virtio-vsock") return vsock(options, sink);
  if (kind == "virtio-serial") return serial(options, sink);
  if (kind == "virtio-fs") {
    std::string dir, tag;
    for (const auto& option : options) {
      if (option.key == "sharedDir") dir = option.value;
      else if (option.key == "mountTag") tag = option.value;
      else return unknown(kind, option);
    }
    if (dir.empty()) return bad("virtio-fs: needs sharedDir=");
    sink.builder.share(tag, dir);
    return {};
  }
  if (kind == "rosetta") {
    std::string tag;
    for (const auto& option : options) {
      if (option.key == "mountTag") tag = option.value;
      else if (option.key == "install" || option.key == "ignore-if-missing")
        return unsupported("rosetta," + option.key + ": vmm cannot install Rosetta or leave it out");
      else return unknown(kind, option);
    }
    sink.builder.rosetta(tag);
    return {};
  }
  if (kind == "virtio-rng") {
    if (auto ok = no_options(kind, options); !ok) return ok;
    sink.builder.entropy();
    return {};
  }
  if (kind == "virtio-balloon") {
    if (auto ok = no_options(kind, options); !ok) return ok;
    sink.builder.balloon();
    return {};
  }
  if (kind == "virtio-gpu" || kind == "virtio-input")
    return unsupported("--device " + kind + ": vmm has no graphics or input devices");
  if (kind == "nbd") return unsupported("--device nbd: vmm has no network block devices");
  return bad("--device: unknown device type " + kind + " in \"" + std::string(text) + "\"");
}

}  // namespace vmm::vfkit::detail
