// The control channel, the consoles and the single devices (vsock, entropy, balloon).
#include "qemu/command_line/sections.hpp"
#include "vmm/format.hpp"

namespace vmm::qemu::sections {

void add_control_and_consoles(ArgvBuilder& argv, const QemuRuntimePaths& paths,
                              MachineType machine) {
  // Control and console: both are sockets the engine already holds the other end of.
  argv.add("-chardev", fmt::format("socket,id=qmp,fd={}", paths.qmp_fd));
  argv.add("-mon", "chardev=qmp,mode=control");
  argv.add("-chardev", fmt::format("socket,id=console,fd={}", paths.console_fd));
  argv.add("-serial", "chardev:console");
  // The virtio console (hvc0), on the virtio bus of the machine like every other device.
  argv.add("-chardev", fmt::format("socket,id=hvc,fd={}", paths.virtio_console_fd));
  argv.add("-device", fmt::format("{},id=virtio-serial0", virtio("virtio-serial", machine)));
  argv.add("-device", "virtconsole,bus=virtio-serial0.0,chardev=hvc,id=hvc0");
}

void add_devices(ArgvBuilder& argv, const VmConfig& config, const QemuRuntimePaths& paths,
                 MachineType machine) {
  if (config.vsock()) {
    argv.add("-device", fmt::format("{},guest-cid={}", virtio("vhost-vsock", machine),
                                    paths.vsock_cid));
  }
  if (config.entropy()) {
    argv.add("-object", "rng-random,id=rng0,filename=/dev/urandom");
    argv.add("-device", fmt::format("{},rng=rng0", virtio("virtio-rng", machine)));
  }
  if (config.balloon()) argv.add("-device", virtio("virtio-balloon", machine));
}

}  // namespace vmm::qemu::sections
