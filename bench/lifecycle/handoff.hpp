// bench/lifecycle: what one thread hand-off costs on this machine, the floor under vmm's pause
// and resume: QEMU's reply is read by the engine's worker, which then wakes the caller waiting on
// the operation's future, where the baseline's caller reads the reply itself.
#pragma once

#include "common/measure.hpp"

namespace vmm_bench {

// A promise set on one thread, the time until the thread waiting on its future runs; `count`
// samples, 1 ms apart so that the waiter is asleep each time, as a caller waiting on QEMU is.
Samples measure_thread_handoff(int count);

}  // namespace vmm_bench
