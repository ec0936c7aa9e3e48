// Config hot paths: build + validate a 10-device config, to_json, from_json, and the round trip.
// The target: the whole round trip (build -> to_json -> from_json) under 20 us.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "config_json.hpp"
#include "host_files.hpp"
#include "vmm/config.hpp"

namespace {

using vmm_bench::HostFiles;

// 10 devices: 3 networks, 2 shares, 3 disks, vsock, balloon; plus a serial log and entropy. Only
// device forms every backend supports (the plans benchmarks use the same config). MACs and the
// machine identifier are left to build(), as most callers do.
vmm::VmConfigBuilder ten_device_builder() {
  const auto& files = HostFiles::get();
  auto builder = vmm::VmConfig::builder();
  builder.cpus(4)
      .memory(vmm::Size::gib(2))
      .linux_boot(files.path("vmlinuz"), files.path("initrd.img"), "console=hvc0 root=/dev/vda rw")
      .kernel_command_line_fragment("quiet")
      .nat_network()
      .network(vmm::UnixDatagramNetwork{"/tmp/vmm-bench.sock", 9000})
      .network(vmm::FileHandleNetwork{files.datagram_fd(), 1500})
      .share("home", files.path("home"))
      .share("src", files.path("src"))
      .disk(vmm::DiskImage{files.path("root.img"), vmm::DiskFormat::raw, false,
                           vmm::CachingMode::cached, vmm::SyncMode::fsync, vmm::BlockBus::virtio,
                           "root"})
      .disk(files.path("data.img"))
      .disk(files.path("seed.iso"), true)
      .vsock()
      .balloon()
      .entropy()
      .serial(vmm::SerialToFile{files.path("serial.log"), true});
  return builder;
}

vmm::VmConfig ten_device_config() {
  auto config = ten_device_builder().build();
  if (!config) {
    std::fprintf(stderr, "bench config is invalid: %s\n", config.error().to_string().c_str());
    std::abort();
  }
  return std::move(config).value();
}

void BM_BuildValidate(benchmark::State& state) {
  for (auto _ : state) {
    auto config = ten_device_builder().build();
    benchmark::DoNotOptimize(config);
  }
}
BENCHMARK(BM_BuildValidate);

// The same with the MACs and machine identifier given: build() then draws no random bytes.
void BM_BuildValidate_GivenIds(benchmark::State& state) {
  const auto reference = ten_device_config();
  for (auto _ : state) {
    auto builder = ten_device_builder();
    builder.macs(reference.network_macs()).machine_identifier(reference.machine_identifier());
    auto config = builder.build();
    benchmark::DoNotOptimize(config);
  }
}
BENCHMARK(BM_BuildValidate_GivenIds);

void BM_ToJson(benchmark::State& state) {
  const auto config = ten_device_config();
  for (auto _ : state) {
    auto text = config.to_json();
    benchmark::DoNotOptimize(text);
  }
}
BENCHMARK(BM_ToJson);

void BM_FromJson(benchmark::State& state) {
  const auto text = ten_device_config().to_json();
  for (auto _ : state) {
    auto config = vmm::VmConfig::from_json(text);
    benchmark::DoNotOptimize(config);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_FromJson);

// The parts of from_json, to tell parsing, reading and host checks apart.
void BM_FromJson_ParseOnly(benchmark::State& state) {
  const auto text = ten_device_config().to_json();
  for (auto _ : state) {
    auto document = nlohmann::json::parse(text);
    benchmark::DoNotOptimize(document);
  }
}
BENCHMARK(BM_FromJson_ParseOnly);

void BM_FromJson_ReadNoHostChecks(benchmark::State& state) {
  const auto document = nlohmann::json::parse(ten_device_config().to_json());
  for (auto _ : state) {
    auto config = vmm::detail::config_from_json(document, vmm::detail::HostChecks::off);
    benchmark::DoNotOptimize(config);
  }
}
BENCHMARK(BM_FromJson_ReadNoHostChecks);

void BM_RoundTrip(benchmark::State& state) {
  const auto config = ten_device_config();
  for (auto _ : state) {
    auto again = vmm::VmConfig::from_json(config.to_json());
    benchmark::DoNotOptimize(again);
  }
}
BENCHMARK(BM_RoundTrip);

// The "whole round trip": build + validate, write, read back (and validate again).
void BM_WholeRoundTrip(benchmark::State& state) {
  for (auto _ : state) {
    auto config = ten_device_builder().build();
    auto again = vmm::VmConfig::from_json(config->to_json());
    benchmark::DoNotOptimize(again);
  }
}
BENCHMARK(BM_WholeRoundTrip);

}  // namespace

BENCHMARK_MAIN();
