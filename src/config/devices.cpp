#include "vmm/devices.hpp"

#include "config/enum_names.hpp"

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
  return detail::kind_name(detail::kNetworkKindNames, attachment);  // config/enum_names.hpp
}

}  // namespace vmm
