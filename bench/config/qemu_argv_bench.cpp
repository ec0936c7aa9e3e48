// The QEMU argv for the 10-device config: build_qemu_command_line() is a pure function, the
// whole per-VM planning of the QEMU backend (the engine adds only -S / -incoming).
#include <benchmark/benchmark.h>

#include <string>
#include <variant>

#include "qemu/command_line.hpp"
#include "ten_devices.hpp"

namespace {

using vmm_bench::HostFiles;
using vmm_bench::ten_device_config;

// A capable Linux host: KVM, virtiofsd, vhost-vsock.
vmm::qemu::QemuHostFacts qemu_host() {
  vmm::qemu::QemuHostFacts host;
  host.binary = "/usr/bin/qemu-system-x86_64";
  host.acceleration = vmm::Acceleration::kvm;
  host.tsc_khz = 2'000'000;
  host.virtiofsd = "/usr/lib/qemu/virtiofsd";
  host.vhost_vsock = true;
  return host;
}

// What the QEMU engine prepares per run: one slot per network and share, in config order.
vmm::qemu::QemuRuntimePaths qemu_paths(const vmm::VmConfig& config) {
  const auto& files = HostFiles::get();
  vmm::qemu::QemuRuntimePaths paths;
  for (std::size_t i = 0; i < config.networks().size(); ++i) {
    const auto& attachment = config.networks()[i].attachment;
    paths.network_fds.push_back(std::holds_alternative<vmm::FileHandleNetwork>(attachment) ? 5
                                                                                           : -1);
    paths.network_local_sockets.push_back(
        std::holds_alternative<vmm::UnixDatagramNetwork>(attachment)
            ? files.path("net" + std::to_string(i) + ".sock")
            : std::filesystem::path());
  }
  for (std::size_t i = 0; i < config.shares().size(); ++i)
    paths.virtiofs_sockets.push_back(files.path("fs" + std::to_string(i) + ".sock"));
  return paths;
}

void BM_QemuArgvPlan(benchmark::State& state) {
  const auto config = ten_device_config();
  const auto host = qemu_host();
  const auto paths = qemu_paths(config);
  if (auto probe = vmm::qemu::build_qemu_command_line(config, host, paths); !probe) {
    state.SkipWithError(probe.error().to_string().c_str());
    return;
  }
  for (auto _ : state) {
    auto argv = vmm::qemu::build_qemu_command_line(config, host, paths);
    benchmark::DoNotOptimize(argv);
  }
}
BENCHMARK(BM_QemuArgvPlan);

}  // namespace
