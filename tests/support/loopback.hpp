// Test support: TCP on the host's loopback (127.0.0.1), for servers the tests run and ports they
// hand to the code under test.
#pragma once

#include <cstdint>

#include "vmm/file_descriptor.hpp"

namespace vmm::support {

// A listening socket on 127.0.0.1 at a port the kernel picks, written to `port`; invalid when it
// cannot be made.
FileDescriptor listen_loopback(std::uint16_t& port);

// A TCP port free on 127.0.0.1 right now (bound, read, closed); 0 when none could be had.
std::uint16_t free_loopback_port();

}  // namespace vmm::support
