// vmm internal (QEMU backend): vsock connections routed by peer CID (see vsock_routes.hpp).
#include "qemu/vsock_routes.hpp"

#include <string>
#include <utility>

namespace vmm::qemu {

Result<void> VsockRoutes::add(std::uint32_t cid, Handler handler) {
  std::lock_guard lock(mutex_);
  if (!handlers_.emplace(cid, std::move(handler)).second) {
    return make_error(Errc::invalid_state,
                      "listen_vsock: this VM (guest CID " + std::to_string(cid) +
                          ") already listens on the port");
  }
  return {};
}

bool VsockRoutes::remove(std::uint32_t cid) {
  std::lock_guard lock(mutex_);
  handlers_.erase(cid);
  return handlers_.empty();
}

bool VsockRoutes::empty() const {
  std::lock_guard lock(mutex_);
  return handlers_.empty();
}

bool VsockRoutes::deliver(std::uint32_t peer_cid, FileDescriptor connection) {
  std::lock_guard lock(mutex_);
  const auto handler = handlers_.find(peer_cid);
  if (handler == handlers_.end()) return false;  // `connection` closes here
  handler->second(std::move(connection));
  return true;
}

}  // namespace vmm::qemu
