// vmm internal: the rules for console ports (named virtio-serial channels).
//
// A name ends up in three places that each restrict it: QEMU's `virtserialport name=` option
// (commas would need escaping), the guest's /dev/virtio-ports/<name> path (no '/'), and VZ's
// port name. The portable rule is the narrow intersection: 1-63 bytes of [A-Za-z0-9._-], unique.
// 16 ports at most: QEMU's virtio-serial bus has 31 ports and port 0 is the virtual console.
#include <fmt/format.h>

#include <algorithm>

#include "config/validation.hpp"
#include "vmm/config.hpp"

namespace vmm::detail {

namespace {

bool name_character(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

}  // namespace

Result<void> check_console_ports(const std::vector<ConsolePort>& ports) {
  if (ports.size() > VmConfig::max_console_ports) {
    return make_error(Errc::invalid_config,
                      fmt::format("console_ports: {} ports given, at most {} are allowed",
                                  ports.size(), VmConfig::max_console_ports));
  }
  for (std::size_t i = 0; i < ports.size(); ++i) {
    const auto& name = ports[i].name;
    const auto field = fmt::format("console_ports[{}]", i);
    if (name.empty()) return make_error(Errc::invalid_config, field + ": empty name");
    if (name.size() > VmConfig::max_console_port_name_bytes) {
      return make_error(Errc::invalid_config,
                        fmt::format("{}: \"{}\" is {} bytes long, at most {} are allowed", field,
                                    name, name.size(), VmConfig::max_console_port_name_bytes));
    }
    if (!std::all_of(name.begin(), name.end(), name_character) || name == "." || name == "..") {
      return make_error(Errc::invalid_config,
                        fmt::format("{}: \"{}\" may hold only letters, digits, '.', '_' and '-'",
                                    field, name));
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (ports[j].name == name) {
        return make_error(Errc::invalid_config,
                          fmt::format("{}: \"{}\" is already the name of console_ports[{}]", field,
                                      name, j));
      }
    }
  }
  return {};
}

}  // namespace vmm::detail
