#include "vmm/devices.hpp"


namespace vmm {

std::string LinuxBoot::full_command_line() const {
  std::string line = command_line;
  for (const auto& fragment : extra_command_line) {
    if (!line.empty()) line += ' ';
    line += fragment;
  }
  return line;
}

std::string_view network_kind(const NetworkAttachment& attachment) {
  struct Visitor {
    std::string_view operator()(const NatNetwork&) const { return "nat"; }
    std::string_view operator()(const BridgedNetwork&) const { return "bridged"; }
    std::string_view operator()(const FileHandleNetwork&) const { return "file_handle"; }
    std::string_view operator()(const UnixDatagramNetwork&) const { return "unix_datagram"; }
    std::string_view operator()(const VmnetNetwork&) const { return "vmnet"; }
    std::string_view operator()(const TapNetwork&) const { return "tap"; }
  };
  return std::visit(Visitor{}, attachment);
}

}  // namespace vmm
