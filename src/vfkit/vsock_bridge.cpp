// vfkit's vsock exposure (include/vmm/vfkit_vsock.hpp): one thread accepts host clients
// (connect mode), and one thread per connection copies bytes both ways with poll(). A pipe that
// is written once on shutdown wakes every thread.
#include "vmm/vfkit_vsock.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/posix.hpp"
#include "vfkit/sockets.hpp"

namespace vmm::vfkit {

struct VsockBridge::Impl {
  VsockExposure exposure;
  GuestVsock guest;
  FileDescriptor listener;                // connect mode: the unix socket at exposure.socket
  std::array<FileDescriptor, 2> stop;     // written on shutdown; read end polled by every thread
  std::mutex mutex;
  bool stopping = false;
  std::vector<std::thread> threads;
  Subscription guest_listener;        // listen mode

  void spawn(std::function<void()> work) {
    std::lock_guard lock(mutex);
    if (stopping) return;
    threads.emplace_back(std::move(work));
  }

  // Copies a <-> b until both directions have ended (EOF or an error) or the bridge stops.
  void splice(FileDescriptor a, FileDescriptor b) {
    bool open[2] = {true, true};  // a->b, b->a
    const int fds[2] = {a.get(), b.get()};
    char buffer[16384];
    while (open[0] || open[1]) {
      pollfd polls[3] = {{stop[0].get(), POLLIN, 0}, {fds[0], static_cast<short>(open[0] ? POLLIN : 0), 0},
                         {fds[1], static_cast<short>(open[1] ? POLLIN : 0), 0}};
      if (::poll(polls, 3, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (polls[0].revents) return;
      for (int from = 0; from < 2; ++from) {
        if (!open[from] || !polls[1 + from].revents) continue;
        const auto n = ::read(fds[from], buffer, sizeof(buffer));
        if (n < 0 && errno == EINTR) continue;
        const int to = fds[1 - from];
        if (n <= 0 || !vmm::detail::write_all(to, std::string_view(buffer, static_cast<std::size_t>(n)))) {
          open[from] = false;
          ::shutdown(to, SHUT_WR);  // the peer sees the end of this direction
        }
      }
    }
  }

  void accept_loop(const std::shared_ptr<Impl>& self) {
    for (;;) {
      pollfd polls[2] = {{stop[0].get(), POLLIN, 0}, {listener.get(), POLLIN, 0}};
      if (::poll(polls, 2, -1) < 0 && errno != EINTR) return;
      if (polls[0].revents) return;
      if (!polls[1].revents) continue;
      auto client = detail::accept_connection(listener.get());
      if (client.get() < 0) continue;
      auto shared_client = std::make_shared<FileDescriptor>(std::move(client));
      guest.connect(exposure.port, [self, shared_client](Result<FileDescriptor> guest_fd) {
        if (!guest_fd) return;  // the client's connection closes: the guest port did not answer
        auto fd = std::make_shared<FileDescriptor>(std::move(*guest_fd));
        self->spawn([self, shared_client, fd] { self->splice(std::move(*shared_client), std::move(*fd)); });
      });
    }
  }
};

GuestVsock GuestVsock::of(std::shared_ptr<VirtualMachine> vm) {
  return GuestVsock{
      [vm](std::uint32_t port, std::function<void(Result<FileDescriptor>)> done) { vm->connect_vsock(port, std::move(done)); },
      [vm](std::uint32_t port, std::function<void(FileDescriptor)> on_connection) {
        return vm->listen_vsock(port, std::move(on_connection));
      }};
}

VsockBridge::VsockBridge(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<VsockBridge>> VsockBridge::start(const VsockExposure& exposure, GuestVsock guest) {
  auto impl = std::make_shared<Impl>();
  impl->exposure = exposure;
  impl->guest = std::move(guest);
  auto stop = detail::make_pipe("a pipe for the vsock bridge");
  if (!stop) return std::move(stop).error();
  impl->stop = std::move(*stop);
  const auto what = "virtio-vsock port " + std::to_string(exposure.port) + " on " + exposure.socket.string();
  if (exposure.listen) {
    std::weak_ptr<Impl> weak = impl;
    auto subscription = impl->guest.listen(exposure.port, [weak](FileDescriptor guest_fd) {
      auto self = weak.lock();
      if (!self) return;
      auto host = detail::connect_unix(self->exposure.socket);
      if (!host) return;  // nobody serves the socket: the guest's connection closes
      auto pair = std::make_shared<std::pair<FileDescriptor, FileDescriptor>>(std::move(guest_fd), std::move(*host));
      self->spawn([self, pair] { self->splice(std::move(pair->first), std::move(pair->second)); });
    });
    if (!subscription) return Error(subscription.error().code(), what + ": " + subscription.error().message());
    impl->guest_listener = std::move(*subscription);
  } else {
    auto listener = detail::listen_unix(exposure.socket, what);
    if (!listener) return std::move(listener).error();
    impl->listener = std::move(*listener);
    auto self = impl;
    impl->spawn([self] { self->accept_loop(self); });
  }
  return std::unique_ptr<VsockBridge>(new VsockBridge(std::move(impl)));
}

VsockBridge::~VsockBridge() {
  impl_->guest_listener.reset();  // no new guest connections
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
    threads.swap(impl_->threads);
  }
  const char wake = 1;
  (void)::write(impl_->stop[1].get(), &wake, 1);
  for (auto& thread : threads) thread.join();
  if (!impl_->exposure.listen) {
    impl_->listener.reset();
    ::unlink(impl_->exposure.socket.c_str());
  }
}

}  // namespace vmm::vfkit
