// The Virtualization.framework plan for the 10-device config: make_plan() is pure C++, built on
// every platform, so its cost is measured here too.
#include <benchmark/benchmark.h>

#include "ten_devices.hpp"
#include "vz/plan.hpp"

namespace {

using vmm_bench::HostFiles;
using vmm_bench::ten_device_config;

// A capable host: Apple silicon, macOS 15, room for the config.
vmm::vz::HostFacts vz_host() {
  vmm::vz::HostFacts host;
  host.macos = {15, 0};
  host.arch = vmm::vz::HostArch::arm64;
  host.min_cpus = 1;
  host.max_cpus = 8;
  host.min_memory = vmm::Size::mib(128);
  host.max_memory = vmm::Size::gib(16);
  return host;
}

void BM_VzPlan(benchmark::State& state) {
  const auto config = ten_device_config();
  const auto host = vz_host();
  vmm::vz::PlanOptions options;
  options.work_dir = HostFiles::get().path("vz-work");
  if (auto probe = vmm::vz::make_plan(config, host, options); !probe) {
    state.SkipWithError(probe.error().to_string().c_str());
    return;
  }
  for (auto _ : state) {
    auto plan = vmm::vz::make_plan(config, host, options);
    benchmark::DoNotOptimize(plan);
  }
}
BENCHMARK(BM_VzPlan);

}  // namespace
