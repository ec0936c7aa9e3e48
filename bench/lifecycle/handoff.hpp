// bench/lifecycle: what one thread hand-off costs on this machine, the floor under vmm's pause
// and resume: QEMU's reply is read by the engine's worker, which then wakes the caller waiting on
// the operation's future, where the baseline's caller reads the reply itself.
#pragma once

#include "common/measure.hpp"

namespace vmm_bench {

// Where the waiting thread sleeps relative to the one that wakes it.
enum class Handoff {
  // The setter blocks right after setting: the waiter can run on the setter's CPU.
  same_cpu,
  // The waiter sleeps on another CPU and the setter keeps running, as vmm's worker does after
  // completing an operation: the kernel must wake that CPU (on a VM whose idle vCPUs halt, an
  // interrupt through the hypervisor). Needs 2 CPUs; on 1, measures same_cpu.
  other_cpu,
};

// A promise set on one thread, the time until the thread waiting on its future runs; `count`
// samples, 1 ms apart so that the waiter is asleep each time, as a caller waiting on QEMU is.
Samples measure_thread_handoff(int count, Handoff where);

}  // namespace vmm_bench
