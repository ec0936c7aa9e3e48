// vmm internal (QEMU backend): host-side vsock — connecting to a guest port and listening for
// the guest's connections on an acceptor thread. No engine state: the caller gives the CID and
// gates the callback.
#pragma once

#include <cstdint>
#include <functional>

#include "vmm/error.hpp"
#include "vmm/file_descriptor.hpp"
#include "vmm/virtual_machine.hpp"

namespace vmm::qemu {

// Connects to `port` of the guest with context id `cid`. The kernel bounds the connect (2 s by
// default) when the guest does not answer.
Result<FileDescriptor> connect_vsock(std::uint32_t cid, std::uint32_t port);

// Listens on `port` for any CID; each accepted connection goes to `on_accept` on the acceptor
// thread, which ends when `on_accept` returns false or the Subscription is cancelled (also from
// inside on_accept).
Result<Subscription> listen_vsock(std::uint32_t port,
                                  std::function<bool(FileDescriptor)> on_accept);

}  // namespace vmm::qemu
