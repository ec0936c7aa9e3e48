// bench/common: what the benchmarks read about this machine and their QEMU children, from /proc.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace vmm_bench {

// The pids of this process's qemu-system-* children.
std::vector<pid_t> child_qemu_pids();

// A process's argv from /proc/PID/cmdline; nullopt once it is gone.
std::optional<std::vector<std::string>> process_argv(pid_t pid);

// A field of /proc/PID/smaps_rollup (e.g. "Private_Dirty"), in KiB; -1 when unreadable.
long smaps_rollup_kib(pid_t pid, const std::string& field);

// "a b c" from /proc/loadavg.
std::string load_average();

// The first line a shell command prints, or "unknown".
std::string first_line_of(const std::string& command);

}  // namespace vmm_bench
