// vmm internal (QEMU backend): host-side vsock connect and listen (see vsock.hpp).
#include "qemu/vsock.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include <array>
#include <cerrno>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "runtime/posix.hpp"
#include "vmm/logging.hpp"

namespace vmm::qemu {
namespace {

enum class SocketUse { connect, listen };

// The socket set-up both directions share: a stream AF_VSOCK socket connected to, or bound and
// listening on, (cid, port).
Result<FileDescriptor> vsock_socket(SocketUse use, std::uint32_t cid, std::uint32_t port) {
  FileDescriptor fd(::socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return detail::errno_error(Errc::io, "vsock socket");
  sockaddr_vm address{};
  address.svm_family = AF_VSOCK;
  address.svm_cid = cid;
  address.svm_port = port;
  const auto* raw = reinterpret_cast<const sockaddr*>(&address);
  int rc = 0;
  if (use == SocketUse::connect) {
    do {
      rc = ::connect(fd.get(), raw, sizeof address);
    } while (rc != 0 && errno == EINTR);
  } else if (::bind(fd.get(), raw, sizeof address) != 0 || ::listen(fd.get(), 16) != 0) {
    rc = -1;
  }
  if (rc != 0) {
    const int error = errno;
    return detail::errno_error(Errc::io,
                               use == SocketUse::connect
                                   ? fmt::format("vsock connect to guest port {}", port)
                                   : fmt::format("vsock listen on port {}", port),
                               error);
  }
  return fd;
}

// One host port's shared listener: an acceptor thread that routes by the peer's CID.
class PortListener {
 public:
  PortListener(std::uint32_t port, FileDescriptor listener, FileDescriptor wake)
      : port_(port), listener_(std::move(listener)), wake_(std::move(wake)) {}
  ~PortListener() {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(wake_.get(), &one, sizeof one);
    if (thread_.joinable()) thread_.join();
  }
  PortListener(const PortListener&) = delete;
  PortListener& operator=(const PortListener&) = delete;

  VsockRoutes& routes() { return routes_; }
  void start() { thread_ = std::thread([this] { accept_loop(); }); }

 private:
  void accept_loop() {
    for (;;) {
      std::array<pollfd, 2> fds{{{listener_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}}};
      if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) return;
      if (fds[1].revents != 0) return;
      if (fds[0].revents == 0) continue;
      sockaddr_vm peer{};
      socklen_t length = sizeof peer;
      FileDescriptor connection(::accept4(listener_.get(), reinterpret_cast<sockaddr*>(&peer),
                                          &length, SOCK_CLOEXEC));
      if (!connection) continue;
      if (!routes_.deliver(peer.svm_cid, std::move(connection))) {
        vmm::logger()->warn("vsock: closed a connection to host port {} from guest CID {}: no VM "
                            "of this process with that CID listens on the port",
                            port_, peer.svm_cid);
      }
    }
  }

  std::uint32_t port_;
  FileDescriptor listener_;
  FileDescriptor wake_;
  VsockRoutes routes_;
  std::thread thread_;
};

// The process's listeners by port. The mutex covers opening and closing a port's listener
// together with its routes, so a port is never bound twice; the acceptor threads never take it.
class Listeners {
 public:
  static Listeners& instance() {
    // Never destroyed: a VM destroyed during static destruction may still remove its route.
    static auto* listeners = new Listeners;
    return *listeners;
  }

  Result<void> add(std::uint32_t cid, std::uint32_t port, VsockRoutes::Handler handler) {
    std::lock_guard lock(mutex_);
    if (auto existing = ports_.find(port); existing != ports_.end()) {
      return existing->second->routes().add(cid, std::move(handler));
    }
    auto socket = vsock_socket(SocketUse::listen, VMADDR_CID_ANY, port);
    if (!socket) return std::move(socket).error();
    FileDescriptor wake(::eventfd(0, EFD_CLOEXEC));
    if (!wake) return detail::errno_error(Errc::io, "eventfd");
    auto listener = std::make_unique<PortListener>(port, std::move(*socket), std::move(wake));
    if (auto added = listener->routes().add(cid, std::move(handler)); !added) return added;
    listener->start();
    ports_.emplace(port, std::move(listener));
    return {};
  }

  void remove(std::uint32_t cid, std::uint32_t port) {
    std::lock_guard lock(mutex_);
    const auto listener = ports_.find(port);
    if (listener == ports_.end()) return;
    if (listener->second->routes().remove(cid)) ports_.erase(listener);  // joins its thread
  }

 private:
  std::mutex mutex_;
  std::map<std::uint32_t, std::unique_ptr<PortListener>> ports_;
};

}  // namespace

Result<FileDescriptor> connect_vsock(std::uint32_t cid, std::uint32_t port) {
  // The kernel bounds this connect (2 s by default) when the guest does not answer.
  return vsock_socket(SocketUse::connect, cid, port);
}

Result<Subscription> listen_vsock(std::uint32_t cid, std::uint32_t port,
                                  VsockRoutes::Handler on_accept) {
  if (auto added = Listeners::instance().add(cid, port, std::move(on_accept)); !added) {
    return std::move(added).error();
  }
  return Subscription([cid, port] { Listeners::instance().remove(cid, port); });
}

}  // namespace vmm::qemu
