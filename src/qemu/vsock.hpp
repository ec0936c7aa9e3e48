// vmm internal (QEMU backend): host-side vsock -- connecting to a guest port, and listening for
// one guest's connections to a host port. No engine state: the caller gives the CID and gates
// the callback.
#pragma once

#include <cstdint>

#include "qemu/vsock_routes.hpp"
#include "vmm/error.hpp"
#include "vmm/file_descriptor.hpp"
#include "vmm/virtual_machine.hpp"

namespace vmm::qemu {

// Connects to `port` of the guest with context id `cid`. The kernel bounds the connect (2 s by
// default) when the guest does not answer.
Result<FileDescriptor> connect_vsock(std::uint32_t cid, std::uint32_t port);

// Hands each connection that the guest with context id `cid` makes to host `port` to
// `on_accept`, until the Subscription is reset. The VMs of this process share one listening
// socket per port (the kernel allows one bound to VMADDR_CID_ANY; see vsock_routes.hpp), opened
// by the first listener on the port and closed with the last; connections from a CID nobody
// listens for are closed and logged. `on_accept` runs on the port's acceptor thread and must
// only hand the descriptor on (VsockRoutes::Handler); resetting the Subscription waits for a
// call in progress. invalid_state when `cid` already listens on `port`.
Result<Subscription> listen_vsock(std::uint32_t cid, std::uint32_t port,
                                  VsockRoutes::Handler on_accept);

}  // namespace vmm::qemu
