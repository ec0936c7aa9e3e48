// vmm internal (QEMU backend): which VM a host vsock connection belongs to. The kernel lets one
// socket bind a port for VMADDR_CID_ANY, and every vhost-vsock guest on the host reaches it, so
// the QEMU VMs of one process share a listener per port (vsock.cpp) and this table hands each
// accepted connection to the VM whose guest CID made it. A connection from any other CID (another
// process's guest, or a VM that listens on another port) is refused: closed, never delivered.
// Pure: no sockets, testable with any descriptor.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

#include "vmm/error.hpp"
#include "vmm/file_descriptor.hpp"

namespace vmm::qemu {

class VsockRoutes {
 public:
  // Called with the route's lock held (so that remove() returning means no call is running or
  // will start): a handler must only hand the descriptor on, never call back into this table.
  using Handler = std::function<void(FileDescriptor)>;

  // invalid_state when `cid` already has a handler on this port.
  Result<void> add(std::uint32_t cid, Handler handler);
  // Waits for a call of the handler in progress; true when no route is left.
  bool remove(std::uint32_t cid);
  bool empty() const;

  // Hands `connection` to the handler for `peer_cid`; false (the descriptor closed) when there
  // is none.
  bool deliver(std::uint32_t peer_cid, FileDescriptor connection);

 private:
  mutable std::mutex mutex_;
  std::map<std::uint32_t, Handler> handlers_;
};

}  // namespace vmm::qemu
