// vmm: vfkit's vsock exposure (opt-in; what vmm-run does for
// `--device virtio-vsock,port=N,socketURL=PATH,listen|connect`). A bridge joins a unix socket on
// the host with vsock port N of the guest, copying bytes both ways until each side is done:
//   connect: the bridge listens on PATH; each client is connected to guest port N.
//   listen:  the bridge listens on vsock port N; each guest connection is connected to PATH
//            (a server the host runs there).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "vmm/error.hpp"
#include "vmm/file_descriptor.hpp"
#include "vmm/vfkit.hpp"
#include "vmm/virtual_machine.hpp"

namespace vmm::vfkit {

// How a bridge reaches the guest's vsock: a VirtualMachine's connect_vsock/listen_vsock, or
// anything with the same shape (the tests use socket pairs).
struct GuestVsock {
  std::function<void(std::uint32_t port, std::function<void(Result<FileDescriptor>)> done)> connect;
  std::function<Result<Subscription>(std::uint32_t port, std::function<void(FileDescriptor)> on_connection)> listen;

  static GuestVsock of(std::shared_ptr<VirtualMachine> vm);
};

class VsockBridge {
 public:
  // connect: binds PATH (a stale socket file is replaced); listen: listens on the guest port.
  static Result<std::unique_ptr<VsockBridge>> start(const VsockExposure& exposure, GuestVsock guest);
  // Stops accepting, ends every connection, and removes the socket file it bound.
  ~VsockBridge();
  VsockBridge(const VsockBridge&) = delete;
  VsockBridge& operator=(const VsockBridge&) = delete;

  struct Impl;

 private:
  explicit VsockBridge(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace vmm::vfkit
