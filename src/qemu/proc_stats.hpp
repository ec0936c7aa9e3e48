// vmm internal (QEMU backend): figures from /proc files, as pure parsers over their text
// (unit-tested with captured text) and one reader per file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vmm::qemu {

struct CpuTicks {
  std::uint64_t user = 0;    // clock ticks (sysconf(_SC_CLK_TCK) per second)
  std::uint64_t system = 0;
};

// utime and stime of /proc/PID/stat (fields 14 and 15; the name in parentheses may hold spaces).
std::optional<CpuTicks> parse_proc_stat_cpu(std::string_view stat);
// A "Key:   123 kB" line of /proc/PID/status or smaps_rollup, in bytes.
std::optional<std::uint64_t> parse_kib_field(std::string_view text, std::string_view key);

struct InterfaceCounters {
  std::uint64_t rx_bytes = 0;
  std::uint64_t rx_packets = 0;
  std::uint64_t tx_bytes = 0;
  std::uint64_t tx_packets = 0;
};
// The line of `ifname` in /proc/PID/net/dev (the counters of the process's network namespace).
std::optional<InterfaceCounters> parse_net_dev(std::string_view net_dev, std::string_view ifname);

// The whole file, or nullopt when it cannot be read (the process is gone).
std::optional<std::string> read_proc_file(const std::string& path);

}  // namespace vmm::qemu
