// vmm internal (QEMU backend): the console thread's loop. QEMU's two guest consoles (ttyS0 and
// hvc0) each arrive on a stream socket; their lines go to one sink and their bytes to an optional
// copy (SerialToFile / SerialToFd), and host input goes to the console the guest reads.
#pragma once

#include <functional>
#include <string_view>

namespace vmm::qemu {

struct ConsolePumpFds {
  int serial = -1;  // our end of the guest's ttyS0 (-1: none)
  int virtio = -1;  // our end of the guest's hvc0 (-1: none)
  int wake = -1;    // eventfd: readable once the pump should drain what is left and return
  int copy = -1;    // every byte either console writes is copied here (-1: no copy)
  int input = -1;   // host input for the guest (-1: none); a closed or unreadable one just ends
  int input_to = -1;  // which console (serial or virtio above) input is written to
};

// Runs until both consoles are closed (QEMU is gone) or `wake` fires (then it first reads what is
// already buffered, without blocking). Each console has its own line splitter, so lines of one
// never mix with half a line of the other. A failing copy stops copying, never reading.
void pump_consoles(const ConsolePumpFds& fds,
                   const std::function<void(std::string_view line)>& deliver_line);

}  // namespace vmm::qemu
