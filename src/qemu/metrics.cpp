// vmm internal (QEMU backend): VirtualMachine::metrics() — the QEMU process's /proc figures and
// its tap counters read on the calling thread, disks and balloon asked of QMP on the worker
// (which owns the run), waiting at most metrics_qmp_wait for it.
#include <unistd.h>

#include <future>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "qemu/core.hpp"
#include "qemu/proc_stats.hpp"

namespace vmm::qemu {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr auto metrics_qmp_wait = 1s;

struct QmpFigures {
  std::vector<DiskMetrics> disks;
  std::optional<std::uint64_t> balloon_actual;
};

std::uint64_t stat_of(const json& stats, const char* key) {
  const auto it = stats.find(key);
  return it != stats.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

// query-blockstats names each disk's format node "disk<N>" (command_line/disks.cpp).
std::vector<DiskMetrics> disks_from(const json& reply, std::size_t count) {
  std::vector<DiskMetrics> disks(count);
  if (!reply.is_array()) return {};
  for (const auto& entry : reply) {
    const auto node = entry.value("node-name", std::string{});
    if (node.rfind("disk", 0) != 0) continue;
    std::size_t index = 0;
    try {
      index = std::stoul(node.substr(4));
    } catch (const std::exception&) {
      continue;
    }
    if (index >= count || !entry.contains("stats")) continue;
    const auto& stats = entry["stats"];
    disks[index] = DiskMetrics{stat_of(stats, "rd_operations"), stat_of(stats, "wr_operations"),
                               stat_of(stats, "rd_bytes"), stat_of(stats, "wr_bytes")};
  }
  return disks;
}

}  // namespace

VmMetrics Core::metrics() {
  VmMetrics metrics;
  pid_t pid = 0;
  std::chrono::steady_clock::time_point started;
  {
    std::lock_guard lock(mutex_);
    if (live_run_ != nullptr && !live_run_->qemu().exit_status()) {
      pid = live_run_->qemu().pid();
    }
    started = run_started_;
  }
  if (pid == 0) return metrics;
  metrics.hypervisor_pid = pid;
  metrics.uptime = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  const auto proc = fmt::format("/proc/{}/", pid);
  if (const auto stat = read_proc_file(proc + "stat")) {
    if (const auto ticks = parse_proc_stat_cpu(*stat)) {
      const auto per_second = static_cast<std::uint64_t>(::sysconf(_SC_CLK_TCK));
      if (per_second > 0) {
        metrics.cpu_user = std::chrono::microseconds(ticks->user * 1'000'000 / per_second);
        metrics.cpu_system = std::chrono::microseconds(ticks->system * 1'000'000 / per_second);
      }
    }
  }
  if (const auto status = read_proc_file(proc + "status")) {
    metrics.rss_bytes = parse_kib_field(*status, "VmRSS");
  }
  if (const auto rollup = read_proc_file(proc + "smaps_rollup")) {
    metrics.pss_bytes = parse_kib_field(*rollup, "Pss");
  }
  // QEMU's own view of /proc/net/dev is its network namespace's: the taps are there.
  if (const auto net_dev = read_proc_file(proc + "net/dev")) {
    for (const auto& network : config_.networks()) {
      const auto* tap = std::get_if<TapNetwork>(&network.attachment);
      if (tap == nullptr) continue;
      if (const auto c = parse_net_dev(*net_dev, tap->ifname)) {
        metrics.taps.push_back(
            TapMetrics{tap->ifname, c->rx_packets, c->rx_bytes, c->tx_packets, c->tx_bytes});
      }
    }
  }

  auto promise = std::make_shared<std::promise<QmpFigures>>();
  auto future = promise->get_future();
  post([this, promise] {
    QmpFigures figures;
    if (run_) {
      if (auto reply = run_->execute("query-blockstats")) {
        figures.disks = disks_from(*reply, config_.disks().size());
      }
      if (config_.balloon()) {
        if (auto reply = run_->execute("query-balloon")) {
          if (const auto it = reply->find("actual");
              it != reply->end() && it->is_number_unsigned()) {
            figures.balloon_actual = it->get<std::uint64_t>();
          }
        }
      }
    }
    promise->set_value(std::move(figures));
  });
  if (future.wait_for(metrics_qmp_wait) == std::future_status::ready) {
    auto figures = future.get();
    metrics.disks = std::move(figures.disks);
    metrics.balloon_actual_bytes = figures.balloon_actual;
  }
  return metrics;
}

}  // namespace vmm::qemu
