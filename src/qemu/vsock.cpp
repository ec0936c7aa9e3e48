// vmm internal (QEMU backend): host-side vsock connect and listen (see vsock.hpp).
#include "qemu/vsock.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include <array>
#include <cerrno>
#include <memory>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "runtime/posix.hpp"

namespace vmm::qemu {

Result<FileDescriptor> connect_vsock(std::uint32_t cid, std::uint32_t port) {
  FileDescriptor fd(::socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return detail::errno_error(Errc::io, "vsock socket");
  sockaddr_vm address{};
  address.svm_family = AF_VSOCK;
  address.svm_cid = cid;
  address.svm_port = port;
  // The kernel bounds this connect (2 s by default) when the guest does not answer.
  int rc = 0;
  do {
    rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int error = errno;
    return detail::errno_error(Errc::io, fmt::format("vsock connect to guest port {}", port), error);
  }
  return fd;
}

Result<Subscription> listen_vsock(std::uint32_t port,
                                  std::function<bool(FileDescriptor)> on_accept) {
  FileDescriptor fd(::socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return detail::errno_error(Errc::io, "vsock socket");
  sockaddr_vm address{};
  address.svm_family = AF_VSOCK;
  address.svm_cid = VMADDR_CID_ANY;
  address.svm_port = port;
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(fd.get(), 16) != 0) {
    const int error = errno;
    return detail::errno_error(Errc::io, fmt::format("vsock listen on port {}", port), error);
  }
  FileDescriptor wake(::eventfd(0, EFD_CLOEXEC));
  if (!wake) return detail::errno_error(Errc::io, "eventfd");
  struct Acceptor {
    FileDescriptor listener;
    FileDescriptor wake;
    std::thread thread;
  };
  auto acceptor = std::make_shared<Acceptor>();
  acceptor->listener = std::move(fd);
  acceptor->wake = std::move(wake);
  // The thread holds the acceptor: cancelling from inside on_accept detaches it safely.
  acceptor->thread = std::thread([a = acceptor, on_accept = std::move(on_accept)] {
    for (;;) {
      std::array<pollfd, 2> fds{{{a->listener.get(), POLLIN, 0}, {a->wake.get(), POLLIN, 0}}};
      if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) return;
      if (fds[1].revents != 0) return;
      if (fds[0].revents == 0) continue;
      FileDescriptor connection(::accept4(a->listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!connection) continue;
      if (!on_accept(std::move(connection))) return;
    }
  });
  return Subscription([acceptor] {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(acceptor->wake.get(), &one, sizeof one);
    if (acceptor->thread.get_id() == std::this_thread::get_id()) {
      acceptor->thread.detach();  // cancelled from its own callback: it returns next
    } else if (acceptor->thread.joinable()) {
      acceptor->thread.join();
    }
  });
}

}  // namespace vmm::qemu
