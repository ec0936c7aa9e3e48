// vmm internal (QEMU backend): the Engine over a supervised QEMU process controlled by QMP.
//
// Threads: one worker runs operations, reads QMP itself (command replies and events, so an
// operation crosses no hand-off between sending its command and completing) and delivers every
// Done and listener call in order; a console thread per run pumps the guest's serial output
// (and the only other user callback, on_console_line); process waiters only queue QEMU's exit
// for the worker and never call user code. See qemu_engine.cpp for how destruction from inside
// a callback is handled.
#pragma once

#include <string_view>

#include "machine/engine.hpp"

namespace vmm::qemu {

// The engine itself is created by vmm::detail::make_qemu_engine() (engine.hpp).

// The state file inside a snapshot bundle: QEMU's migration stream, as written by `migrate`.
inline constexpr std::string_view state_file_name = "state.qemu";

}  // namespace vmm::qemu
