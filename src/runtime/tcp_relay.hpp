// vmm internal: a TCP relay, the port forwarding of a NAT network that has none of its own
// (Virtualization.framework's NAT; issue 10). It listens on a host address and port and joins
// each client to a target it looks up per connection (the guest's address, from its DHCP lease,
// may appear only after the relay starts), copying bytes both ways and passing each side's
// half-close on, until both directions are done.
//
// One thread polls the listener, every connection and a stop pipe; sockets are non-blocking and
// each direction holds at most `buffer_bytes` in flight, so a slow reader stalls only its own
// writer. Destruction stops the thread and closes every socket: clients see the connection end.
// POSIX only (no epoll or eventfd), so that the same code runs on macOS.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "vmm/error.hpp"
#include "vmm/file_descriptor.hpp"

namespace vmm::detail {

struct TcpEndpoint {
  std::string address;  // dotted IPv4
  std::uint16_t port = 0;
};

class TcpRelay {
 public:
  // Called on the relay's thread for each new client; an error closes that client.
  using TargetLookup = std::function<Result<TcpEndpoint>()>;

  static constexpr std::size_t buffer_bytes = 64 * 1024;

  // Binds `listen` (port 0: any free port; see port()) and starts relaying. invalid_config for an
  // address that is not IPv4, io when the bind or listen fails.
  static Result<std::unique_ptr<TcpRelay>> start(const TcpEndpoint& listen, TargetLookup target);

  ~TcpRelay();
  TcpRelay(const TcpRelay&) = delete;
  TcpRelay& operator=(const TcpRelay&) = delete;

  // The port the relay listens on.
  std::uint16_t port() const { return port_; }

 private:
  TcpRelay(FileDescriptor listener, std::uint16_t port, TargetLookup target,
           FileDescriptor stop_read, FileDescriptor stop_write);
  struct Loop;

  std::uint16_t port_;
  FileDescriptor stop_read_;
  FileDescriptor stop_write_;
  std::thread thread_;
};

}  // namespace vmm::detail
