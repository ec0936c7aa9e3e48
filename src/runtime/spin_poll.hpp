// vmm internal: poll() that spins, yielding the CPU, before it would sleep.
//
// Why: on a host whose idle CPUs halt (a VM's vCPUs, Firecracker's among them), waking a thread
// blocked in poll() can cost 0.1 ms: the kernel must interrupt the halted CPU, or queue the
// thread behind the one that woke it. A thread that expects an answer within about a
// millisecond (the QEMU worker waiting for the reply to `stop` or `cont`) saves that by staying
// runnable. It yields between polls, so that the threads producing the answer (QEMU's, on a
// small host) are not starved by the spinner: without the yield, a 2-CPU host's pause took
// three times as long (bench/lifecycle, docs/benchmarks.md).
#pragma once

#include <poll.h>

#include <chrono>
#include <span>

namespace vmm::detail {

// Polls `fds` without blocking, yielding between polls, until one of them is ready (true, with
// their revents set as poll() sets them) or `until` has passed (false, revents cleared).
bool poll_spinning(std::span<pollfd> fds, std::chrono::steady_clock::time_point until);

}  // namespace vmm::detail
