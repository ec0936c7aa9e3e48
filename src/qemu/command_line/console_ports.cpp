// Console ports: one virtserialport per port, on the bus of the virtio console (hvc0, port 0),
// each over a connected stream socket the engine holds the other end of. The guest's
// virtio_console driver names the port after `name=` (sysfs .../virtio-ports/vportNpM/name).
#include "qemu/command_line/sections.hpp"
#include "vmm/format.hpp"

namespace vmm::qemu::sections {

void add_console_ports(ArgvBuilder& argv, const VmConfig& config, const QemuRuntimePaths& paths) {
  const auto& ports = config.console_ports();
  for (std::size_t i = 0; i < ports.size() && i < paths.console_port_fds.size(); ++i) {
    argv.add("-chardev", fmt::format("socket,id=port{},fd={}", i, paths.console_port_fds[i]));
    // Names are [A-Za-z0-9._-] (config rule), so no option escaping is needed.
    argv.add("-device", fmt::format("virtserialport,bus=virtio-serial0.0,chardev=port{},name={}",
                                    i, ports[i].name));
  }
}

}  // namespace vmm::qemu::sections
