// vmm: VmMetrics as text and JSON, and the core's part of VirtualMachine::metrics().
#include "vmm/metrics.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "machine/virtual_machine_impl.hpp"

namespace vmm {
namespace {

std::string mib(std::uint64_t bytes) {
  return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
}

std::string seconds(std::chrono::microseconds time) {
  return fmt::format("{:.2f} s", static_cast<double>(time.count()) / 1e6);
}

}  // namespace

std::string VmMetrics::to_string() const {
  std::vector<std::string> parts;
  if (hypervisor_pid) parts.push_back(fmt::format("pid {}", *hypervisor_pid));
  if (cpu_user) parts.push_back(fmt::format("cpu user {}", seconds(*cpu_user)));
  if (cpu_system) parts.push_back(fmt::format("cpu system {}", seconds(*cpu_system)));
  if (rss_bytes) parts.push_back(fmt::format("rss {}", mib(*rss_bytes)));
  if (pss_bytes) parts.push_back(fmt::format("pss {}", mib(*pss_bytes)));
  for (std::size_t i = 0; i < disks.size(); ++i) {
    const auto& d = disks[i];
    parts.push_back(fmt::format("disk {} read {} ops {} B write {} ops {} B", i,
                                d.read_operations, d.read_bytes, d.write_operations,
                                d.write_bytes));
  }
  for (const auto& t : taps) {
    parts.push_back(fmt::format("tap {} rx {} pkts {} B tx {} pkts {} B", t.ifname, t.rx_packets,
                                t.rx_bytes, t.tx_packets, t.tx_bytes));
  }
  if (balloon_actual_bytes) {
    parts.push_back(fmt::format("balloon actual {}", mib(*balloon_actual_bytes)));
  }
  if (uptime) parts.push_back(fmt::format("uptime {} ms", uptime->count()));
  parts.push_back(fmt::format("in state {} ms", state_time.count()));
  std::string out;
  for (const auto& part : parts) {
    if (!out.empty()) out += ", ";
    out += part;
  }
  return out;
}

std::string VmMetrics::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  if (hypervisor_pid) j["hypervisor_pid"] = *hypervisor_pid;
  if (cpu_user) j["cpu_user_us"] = cpu_user->count();
  if (cpu_system) j["cpu_system_us"] = cpu_system->count();
  if (rss_bytes) j["rss_bytes"] = *rss_bytes;
  if (pss_bytes) j["pss_bytes"] = *pss_bytes;
  if (!disks.empty()) {
    j["disks"] = nlohmann::json::array();
    for (const auto& d : disks) {
      j["disks"].push_back({{"read_operations", d.read_operations},
                            {"write_operations", d.write_operations},
                            {"read_bytes", d.read_bytes},
                            {"write_bytes", d.write_bytes}});
    }
  }
  if (!taps.empty()) {
    j["taps"] = nlohmann::json::array();
    for (const auto& t : taps) {
      j["taps"].push_back({{"ifname", t.ifname},
                           {"rx_packets", t.rx_packets},
                           {"rx_bytes", t.rx_bytes},
                           {"tx_packets", t.tx_packets},
                           {"tx_bytes", t.tx_bytes}});
    }
  }
  if (balloon_actual_bytes) j["balloon_actual_bytes"] = *balloon_actual_bytes;
  if (uptime) j["uptime_ms"] = uptime->count();
  j["state_time_ms"] = state_time.count();
  return j.dump();
}

std::optional<std::filesystem::path> VirtualMachine::Impl::log_path() const {
  return engine_->log_path();
}

VmMetrics VirtualMachine::Impl::metrics() const {
  VmMetrics metrics = engine_->metrics();
  std::lock_guard lock(mutex_);
  metrics.state_time = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - state_since_);
  return metrics;
}

}  // namespace vmm
