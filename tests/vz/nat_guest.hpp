// Test support for the NAT forwarder tests: a loopback TCP server standing in for a guest (at
// 127.0.0.x, the address a fake lease names), a clients' side, and lease file text.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "vmm/file_descriptor.hpp"
#include "vmm/mac_address.hpp"

namespace vmm::vz::test {

// Greets each client with "<name>:", then echoes its bytes until the client's end, then closes.
class GuestServer {
 public:
  // Port 0: any free port. invalid() when the address cannot be bound.
  GuestServer(std::string name, const std::string& address = "127.0.0.1", std::uint16_t port = 0);
  ~GuestServer();
  GuestServer(const GuestServer&) = delete;
  GuestServer& operator=(const GuestServer&) = delete;

  bool valid() const { return listener_.valid(); }
  std::uint16_t port() const { return port_; }
  int accepted() const { return accepted_; }

 private:
  void serve();
  std::string name_;
  std::uint16_t port_ = 0;
  FileDescriptor listener_;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::mutex mutex_;
  std::vector<int> clients_;  // shut down on destruction, so that each client thread ends
  std::vector<std::thread> threads_;
  std::thread thread_;
};

// A client connected to 127.0.0.1:`port`; invalid when the connection fails.
FileDescriptor connect_local(std::uint16_t port);
// Writes all of `data`; false on an error.
bool write_all(int fd, const std::string& data);
// Reads until end of file, an error, or `timeout` without data.
std::string read_to_end(int fd, std::chrono::milliseconds timeout = std::chrono::seconds(30));
// Reads until `size` bytes arrived (or end of file / timeout).
std::string read_some(int fd, std::size_t size,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));

// One block of /var/db/dhcpd_leases in bootpd's format (octets without leading zeros).
// The guest MAC that the NAT tests' leases name.
inline const MacAddress kMac = *MacAddress::parse("52:54:00:ab:0c:01");

std::string lease_block(const std::string& ip, const MacAddress& mac,
                        const std::string& expires = "0x6763c1d4");

}  // namespace vmm::vz::test
