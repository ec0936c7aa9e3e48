// The machine section: which machine, which accelerator, memory, CPUs and identity.
#include <variant>

#include "qemu/command_line/sections.hpp"
#include "vmm/format.hpp"

namespace vmm::qemu {
namespace {

bool needs_pci(const VmConfig& config) {
  if (!std::holds_alternative<LinuxBoot>(config.boot())) return true;
  for (const auto& disk : config.disks()) {
    if (disk.bus != BlockBus::virtio) return true;
  }
  return false;
}

}  // namespace

MachineType choose_machine(const VmConfig& config, HostArch arch) {
  if (arch == HostArch::aarch64) return MachineType::virt;
  return needs_pci(config) ? MachineType::q35 : MachineType::microvm;
}

namespace sections {

Unexpected unsupported(std::string what) {
  return make_error(Errc::unsupported, std::move(what));
}

std::string virtio(std::string_view base, MachineType machine) {
  return fmt::format("{}-{}", base, machine == MachineType::microvm ? "device" : "pci");
}

Result<void> check_host_support(const VmConfig& config, const QemuHostFacts& host) {
  if (config.rosetta_tag()) {
    return unsupported("rosetta: Rosetta translation exists only in Apple's Virtualization "
                       "framework, not in the QEMU backend");
  }
  if (config.nested_virtualization()) {
    if (host.acceleration != Acceleration::kvm) {
      return unsupported("nested_virtualization: needs KVM; QEMU's TCG emulation cannot run "
                         "a hypervisor inside the guest");
    }
    if (!host.kvm_nested) {
      return unsupported("nested_virtualization: the host's kvm_intel/kvm_amd module does not "
                         "have nested=1");
    }
  }
  if (config.vsock() && !host.vhost_vsock) {
    return unsupported("vsock: the QEMU backend needs /dev/vhost-vsock (module vhost_vsock), "
                       "which this host does not have");
  }
  return {};
}

void add_machine(ArgvBuilder& argv, const VmConfig& config, const QemuHostFacts& host,
                 const QemuRuntimePaths& paths, MachineType machine) {
  // microvm gets ACPI so that system_powerdown reaches the guest (power button via the ACPI
  // generic event device); shared guest memory is needed by vhost-user-fs (virtiofsd maps the
  // guest RAM), and a memory file by templates and their clones.
  const bool shares = !config.shares().empty();
  const bool memory_file = !paths.memory_file.empty();
  // A RAM file's backend takes the machine's default RAM id, QEMU's rule for migration
  // compatibility: its RAM block then has the name a VM without one has, so that a full save of
  // a template VM or a clone restores into an ordinary VM (and the other way round).
  const std::string memory_id = !memory_file                       ? "mem"
                                : machine == MachineType::q35     ? "pc.ram"
                                : machine == MachineType::virt    ? "mach-virt.ram"
                                                                  : "microvm.ram";
  std::string machine_arg(to_string(machine));
  if (machine == MachineType::microvm) machine_arg += ",acpi=on";
  // The highest GIC the accelerator offers: GICv3 under TCG and on KVM hosts that have one
  // (GICv2 would cap the guest at 8 vCPUs).
  if (machine == MachineType::virt) machine_arg += ",gic-version=max";
  if (shares || memory_file) machine_arg += ",memory-backend=" + memory_id;
  argv.add("-machine", machine_arg);
  if (host.acceleration == Acceleration::kvm) {
    argv.add("-accel", "kvm");
    // -cpu host passes vmx/svm through when the host's KVM module allows nesting.
    argv.add("-cpu", "host");
  } else {
    argv.add("-accel", "tcg");
    // virt's default CPU is a 32-bit Cortex-A15; `max` is every feature TCG emulates.
    if (machine == MachineType::virt) argv.add("-cpu", "max");
  }
  // No default devices, no config files from /etc, no window, and a guest reboot ends QEMU
  // (panic=-1 and resets become a stop the engine reports as the guest stopping).
  argv.add("-nodefaults");
  argv.add("-no-user-config");
  argv.add("-display", "none");
  argv.add("-no-reboot");
  argv.add("-smp", std::to_string(config.cpus()));
  // Memory is a whole number of MiB: VmConfigBuilder::build() guarantees it.
  argv.add("-m", fmt::format("{}M", config.memory().as_mib()));
  if (memory_file) {
    // share=on: the guest's writes reach the file (a template VM). share=off: a private
    // copy-on-write mapping (a clone), which never writes the file back.
    argv.add("-object",
             fmt::format("memory-backend-file,id={},size={}M,mem-path={},share={}", memory_id,
                         config.memory().as_mib(), escape_option_value(paths.memory_file.string()),
                         paths.memory_file_shared ? "on" : "off"));
  } else if (shares) {
    argv.add("-object", fmt::format("memory-backend-memfd,id=mem,size={}M,share=on",
                                    config.memory().as_mib()));
  }
  argv.add("-uuid", machine_uuid(config.machine_identifier()));
  if (machine == MachineType::microvm) {
    // Modern (virtio 1.x) MMIO transport: vhost-user-fs requires it, the rest are fine with it.
    argv.add("-global", "virtio-mmio.force-legacy=false");
  }
}

}  // namespace sections
}  // namespace vmm::qemu
