// The Virtualization.framework plan (vz::make_plan, pure C++ on every platform) for any config
// the JSON reader accepts without host checks, on an old Intel host and on a current Apple
// silicon one.
// Properties: make_plan never throws or crashes; it refuses only with `unsupported` or
// `invalid_config`; a plan keeps the config's counts and order (one storage entry per disk, one
// network per network, one share per share) and its cpus, memory and device switches.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "config/json.hpp"
#include "fuzz_check.hpp"
#include "vz/plan.hpp"

namespace {

vmm::vz::HostFacts old_intel_host() {
  vmm::vz::HostFacts host;
  host.macos = {13, 0};
  host.arch = vmm::vz::HostArch::x86_64;
  host.min_cpus = 1;
  host.max_cpus = 4;
  host.min_memory = vmm::Size::mib(128);
  host.max_memory = vmm::Size::gib(8);
  return host;
}

vmm::vz::HostFacts current_arm_host() {
  vmm::vz::HostFacts host;
  host.macos = {26, 0};
  host.arch = vmm::vz::HostArch::arm64;
  host.min_cpus = 1;
  host.max_cpus = 255;
  host.min_memory = vmm::Size::mib(128);
  host.max_memory = vmm::Size::gib(1024);
  host.nested_virtualization_supported = true;
  host.rosetta = vmm::vz::RosettaAvailability::installed;
  return host;
}

void check_plan(const vmm::VmConfig& config, const vmm::vz::HostFacts& host, bool console_lines) {
  const vmm::vz::PlanOptions options{
      .work_dir = "/tmp/vmm-fuzz-vz", .console_lines = console_lines, .is_block_device = {}};
  const auto plan = vmm::vz::make_plan(config, host, options);
  if (!plan) {
    const auto code = plan.error().code();
    FUZZ_CHECK(code == vmm::Errc::unsupported || code == vmm::Errc::invalid_config,
               plan.error().to_string());
    return;
  }
  FUZZ_CHECK(plan->cpus == config.cpus(), "cpus changed");
  FUZZ_CHECK(plan->memory_bytes == config.memory().as_bytes(), "memory changed");
  FUZZ_CHECK(plan->storage.size() == config.disks().size(), "a disk was dropped or added");
  for (std::size_t i = 0; i < config.disks().size(); ++i)
    FUZZ_CHECK(plan->storage[i].path == config.disks()[i].path, "disks reordered");
  FUZZ_CHECK(plan->networks.size() == config.networks().size(), "a network was dropped or added");
  FUZZ_CHECK(plan->shares.size() == config.shares().size(), "a share was dropped or added");
  FUZZ_CHECK(plan->vsock == config.vsock().has_value(), "vsock changed");
  FUZZ_CHECK(plan->entropy == config.entropy(), "entropy changed");
  FUZZ_CHECK(plan->balloon == config.balloon().has_value(), "balloon changed");
  FUZZ_CHECK(plan->rosetta_tag == config.rosetta_tag(), "rosetta tag changed");
  FUZZ_CHECK(plan->boot.index() == config.boot().index(), "boot kind changed");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto document = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) return 0;
  const auto config = vmm::detail::config_from_json(document, vmm::detail::HostChecks::off);
  if (!config) return 0;
  check_plan(*config, old_intel_host(), false);
  check_plan(*config, current_arm_host(), true);
  return 0;
}
