// vmm: what a running VM costs and does, as one snapshot (VirtualMachine::metrics()).
//
// Every field is optional: a backend fills what it can see (QEMU: the process's /proc files, QMP
// and the tap interfaces' counters; Virtualization.framework exposes none of these, so there
// only the core's own times are set). Formattable with vmm/format.hpp, and as JSON (to_json()).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vmm {

struct DiskMetrics {  // per disk, in config order
  std::uint64_t read_operations = 0;
  std::uint64_t write_operations = 0;
  std::uint64_t read_bytes = 0;
  std::uint64_t write_bytes = 0;
};

struct TapMetrics {  // per tap network, in config order (counted by the host's interface)
  std::string ifname;
  std::uint64_t rx_packets = 0;
  std::uint64_t rx_bytes = 0;
  std::uint64_t tx_packets = 0;
  std::uint64_t tx_bytes = 0;
};

struct VmMetrics {
  std::optional<std::int64_t> hypervisor_pid;  // QEMU's process id while it runs
  std::optional<std::chrono::microseconds> cpu_user;
  std::optional<std::chrono::microseconds> cpu_system;
  std::optional<std::uint64_t> rss_bytes;
  std::optional<std::uint64_t> pss_bytes;
  std::vector<DiskMetrics> disks;  // empty when unknown
  std::vector<TapMetrics> taps;    // empty when unknown or none
  // The guest memory the balloon leaves the guest (QEMU: query-balloon), with a balloon device.
  // vmm has no balloon target setting yet, so there is no target to report.
  std::optional<std::uint64_t> balloon_actual_bytes;
  // Since the hypervisor process started (QEMU: this run's launch, a restore's included).
  std::optional<std::chrono::milliseconds> uptime;
  // Since the VM entered its current state.
  std::chrono::milliseconds state_time{0};

  // One line, e.g. "pid 1234, cpu 1.20 s user 0.30 s system, rss 210 MiB, ...".
  std::string to_string() const;
  // A JSON object; absent fields are left out.
  std::string to_json() const;
};

}  // namespace vmm
