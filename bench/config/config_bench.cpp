// Config hot paths: build + validate a 10-device config, to_json, from_json, and the round trip.
// The target: the whole round trip (build -> to_json -> from_json) under 20 us.
#include <benchmark/benchmark.h>

#include <string>

#include <nlohmann/json.hpp>

#include "config/json.hpp"
#include "ten_devices.hpp"
#include "vmm/config.hpp"

namespace {

using vmm_bench::ten_device_builder;
using vmm_bench::ten_device_config;

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
