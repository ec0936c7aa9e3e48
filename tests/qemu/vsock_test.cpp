// Host-side vsock listeners (qemu/vsock.hpp, qemu/vsock_routes.hpp): connections are routed by
// the peer's CID, so two VMs of one process listen on one port through one shared socket. This
// host has no vsock transport that connects (no /dev/vhost-vsock, no loopback), so the routing
// is tested with ordinary descriptors and the shared listener with the kernel's real bind rules.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <string_view>
#include <thread>

#include "qemu/vsock.hpp"
#include "qemu/vsock_routes.hpp"
#include "support/wait.hpp"

namespace vmm::qemu {
namespace {

using namespace std::chrono_literals;

// A pipe: the write end stands for an accepted connection, the read end shows when it closed.
struct Pipe {
  FileDescriptor read;
  FileDescriptor write;
};
Pipe make_pipe() {
  int fds[2] = {-1, -1};
  EXPECT_EQ(::pipe(fds), 0);
  return {FileDescriptor(fds[0]), FileDescriptor(fds[1])};
}
bool closed_at_the_other_end(const FileDescriptor& read_end) {
  char byte = 0;
  return ::read(read_end.get(), &byte, 1) == 0;
}

TEST(VsockRoutes, HandsAConnectionToTheHandlerOfThePeersCid) {
  VsockRoutes routes;
  int to_three = -1, to_four = -1;
  ASSERT_TRUE(routes.add(3, [&](FileDescriptor fd) { to_three = fd.release(); }));
  ASSERT_TRUE(routes.add(4, [&](FileDescriptor fd) { to_four = fd.release(); }));
  auto pipe = make_pipe();
  const int number = pipe.write.get();
  EXPECT_TRUE(routes.deliver(4, std::move(pipe.write)));
  EXPECT_EQ(to_four, number);
  EXPECT_EQ(to_three, -1);
  ::close(to_four);
}

TEST(VsockRoutes, ClosesAConnectionFromACidNobodyListensFor) {
  VsockRoutes routes;
  bool called = false;
  ASSERT_TRUE(routes.add(3, [&](FileDescriptor) { called = true; }));
  auto pipe = make_pipe();
  EXPECT_FALSE(routes.deliver(5, std::move(pipe.write)));
  EXPECT_FALSE(called);
  EXPECT_TRUE(closed_at_the_other_end(pipe.read));
}

TEST(VsockRoutes, RefusesASecondHandlerForOneCidAndForgetsARemovedOne) {
  VsockRoutes routes;
  ASSERT_TRUE(routes.add(3, [](FileDescriptor) {}));
  auto again = routes.add(3, [](FileDescriptor) {});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), Errc::invalid_state);
  EXPECT_NE(again.error().message().find("guest CID 3"), std::string::npos);
  ASSERT_TRUE(routes.add(4, [](FileDescriptor) {}));
  EXPECT_FALSE(routes.remove(3));  // CID 4 is left
  auto pipe = make_pipe();
  EXPECT_FALSE(routes.deliver(3, std::move(pipe.write)));
  EXPECT_TRUE(routes.remove(4));
  EXPECT_TRUE(routes.empty());
}

TEST(VsockRoutes, RemoveWaitsForACallInProgress) {
  VsockRoutes routes;
  std::atomic<bool> entered{false}, release{false}, removed{false};
  ASSERT_TRUE(routes.add(3, [&](FileDescriptor) {
    entered = true;
    while (!release) std::this_thread::sleep_for(1ms);
  }));
  auto pipe = make_pipe();
  std::thread acceptor([&] { routes.deliver(3, std::move(pipe.write)); });
  ASSERT_TRUE(support::wait_until([&] { return entered.load(); }));
  std::thread remover([&] {
    routes.remove(3);
    removed = true;
  });
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(removed.load()) << "remove() returned while the handler ran";
  release = true;
  acceptor.join();
  remover.join();
  EXPECT_TRUE(removed.load());
}

// A port of the test's own (tests of other builds may run at the same time).
std::uint32_t test_port() { return 40000u + static_cast<std::uint32_t>(::getpid() % 20000); }

// Whether a plain socket can bind (VMADDR_CID_ANY, port) now: errno when it cannot.
int bind_error(std::uint32_t port) {
  FileDescriptor fd(::socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return errno;
  sockaddr_vm address{};
  address.svm_family = AF_VSOCK;
  address.svm_cid = VMADDR_CID_ANY;
  address.svm_port = port;
  return ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0
             ? 0
             : errno;
}

TEST(VsockListen, TwoVmsShareOnePortsListenerUntilTheLastOneGoes) {
  FileDescriptor probe(::socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!probe) {
    const char* ci = std::getenv("CI");
    if (ci != nullptr && std::string_view(ci) == "true") FAIL() << "no AF_VSOCK sockets";
    GTEST_SKIP() << "this kernel has no AF_VSOCK sockets";
  }
  const std::uint32_t port = test_port();
  ASSERT_EQ(bind_error(port), 0) << "port " << port << " is taken";
  // Two VMs (guest CIDs 100 and 101) listen on one port: one socket is bound for both.
  auto first = listen_vsock(100, port, [](FileDescriptor) {});
  ASSERT_TRUE(first) << first.error().to_string();
  auto second = listen_vsock(101, port, [](FileDescriptor) {});
  ASSERT_TRUE(second) << second.error().to_string();
  EXPECT_EQ(bind_error(port), EADDRINUSE);
  // One VM cannot listen twice on a port.
  auto twice = listen_vsock(100, port, [](FileDescriptor) {});
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code(), Errc::invalid_state);
  // The socket stays while a VM listens, and goes with the last one.
  first->reset();
  EXPECT_EQ(bind_error(port), EADDRINUSE);
  second->reset();
  EXPECT_EQ(bind_error(port), 0);
  // And the port can be listened on again.
  auto again = listen_vsock(100, port, [](FileDescriptor) {});
  EXPECT_TRUE(again) << again.error().to_string();
}

}  // namespace
}  // namespace vmm::qemu
