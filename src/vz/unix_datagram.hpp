// vmm vz: the backend's own datagram socket for a UnixDatagramNetwork. VZ has no attachment for
// a socket path, only VZFileHandleNetworkDeviceAttachment over a connected datagram socket.
#pragma once

#include "vmm/error.hpp"
#include "vmm/file_descriptor.hpp"
#include "vz/plan.hpp"

namespace vmm::vz {

// A SOCK_DGRAM unix socket bound to plan.local (a stale file there is removed first) and
// connected to plan.peer, with the planned send and receive buffer sizes. A missing or silent
// peer is not_found naming its path; other failures io.
Result<FileDescriptor> open_unix_datagram_socket(const UnixDatagramAttachmentPlan& plan);

}  // namespace vmm::vz
