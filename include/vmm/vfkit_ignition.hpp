// vmm: vfkit's `--ignition FILE` (opt-in; what vmm-run does with that flag). vfkit hands a
// Fedora CoreOS / RHCOS guest its Ignition config over vsock: the guest's Ignition connects to
// vsock port 1024 of the host and fetches the config over HTTP. The server here answers every
// GET with the file's bytes (application/json), on a private unix socket that a vsock bridge
// (vmm/vfkit_vsock.hpp, listen mode) joins to guest port 1024.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>

#include "vmm/error.hpp"
#include "vmm/vfkit_vsock.hpp"

namespace vmm::vfkit {

inline constexpr std::uint32_t ignition_vsock_port = 1024;

class IgnitionServer {
 public:
  // Reads `file` now (a later change to it is not served) and starts serving it. Errors name
  // --ignition: a file that cannot be read, a socket that cannot be made, a guest vsock that
  // cannot be listened on (e.g. a VM without a vsock device).
  static Result<std::unique_ptr<IgnitionServer>> start(const std::filesystem::path& file,
                                                       GuestVsock guest);
  // Stops listening on the guest port, stops the server and removes its socket directory.
  ~IgnitionServer();
  IgnitionServer(const IgnitionServer&) = delete;
  IgnitionServer& operator=(const IgnitionServer&) = delete;

  // The unix socket the HTTP server listens on (for tests and logs).
  const std::filesystem::path& socket_path() const;

  struct Impl;

 private:
  explicit IgnitionServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vmm::vfkit
