// vfkit's vsock exposure (vmm/vfkit_vsock.hpp) with socket pairs standing in for the guest's
// vsock (no /dev/vhost-vsock on the test machines), and over a VM on the fake engine to check
// which port the bridge asks the VM for.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <future>
#include <mutex>

#include "support/fake_vm.hpp"
#include "vfkit_test_support.hpp"
#include "vmm/vfkit_vsock.hpp"

namespace vmm_test {
namespace {

using vmm::FileDescriptor;
using namespace vmm::vfkit;

int unix_socket_at(const std::filesystem::path& path, bool listen) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", path.c_str());
  const auto* sa = reinterpret_cast<const sockaddr*>(&address);
  const bool ok = listen ? ::bind(fd, sa, sizeof(address)) == 0 && ::listen(fd, 4) == 0
                         : ::connect(fd, sa, sizeof(address)) == 0;
  if (!ok) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string read_some(int fd) {
  char buffer[256];
  const auto n = ::read(fd, buffer, sizeof(buffer));
  return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
}

void send(int fd, std::string_view text) { ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size())); }

// A guest whose vsock is socket pairs: connect() hands the bridge one end and keeps the other
// as "the guest's side"; listen() keeps the callback so the test can connect "from the guest".
struct PairGuest {
  std::mutex mutex;
  std::vector<int> guest_ends;
  std::vector<std::uint32_t> ports;
  std::function<void(FileDescriptor)> on_connection;

  GuestVsock vsock() {
    return GuestVsock{[this](std::uint32_t port, std::function<void(vmm::Result<FileDescriptor>)> done) {
                        int pair[2];
                        ::socketpair(AF_UNIX, SOCK_STREAM, 0, pair);
                        {
                          std::lock_guard lock(mutex);
                          guest_ends.push_back(pair[1]);
                          ports.push_back(port);
                        }
                        done(FileDescriptor(pair[0]));
                      },
                      [this](std::uint32_t port, std::function<void(FileDescriptor)> callback) {
                        std::lock_guard lock(mutex);
                        ports.push_back(port);
                        on_connection = std::move(callback);
                        return vmm::Result<vmm::Subscription>(vmm::Subscription([this] {
                          std::lock_guard inner(mutex);
                          on_connection = nullptr;
                        }));
                      }};
  }
  int guest_end(std::size_t i) {
    for (int tries = 0; tries < 500; ++tries) {
      {
        std::lock_guard lock(mutex);
        if (guest_ends.size() > i) return guest_ends[i];
      }
      ::usleep(10000);
    }
    return -1;
  }
  ~PairGuest() {
    for (int fd : guest_ends) ::close(fd);
  }
};

class VfkitVsockBridge : public testing::Test {
 protected:
  vmm::support::TempDir tmp;
  PairGuest guest;
};

TEST_F(VfkitVsockBridge, ConnectModeJoinsEachHostClientToTheGuestPort) {
  const auto path = tmp.path() / "v.sock";
  auto bridge = VsockBridge::start({1025, path, false}, guest.vsock());
  ASSERT_TRUE(Ok(bridge));
  const int client = unix_socket_at(path, false);
  ASSERT_GE(client, 0);
  send(client, "ping");
  const int guest_side = guest.guest_end(0);
  ASSERT_GE(guest_side, 0);
  EXPECT_EQ(guest.ports.front(), 1025u);
  EXPECT_EQ(read_some(guest_side), "ping");
  send(guest_side, "pong");
  EXPECT_EQ(read_some(client), "pong");
  ::shutdown(client, SHUT_WR);
  EXPECT_EQ(read_some(guest_side), "");  // the client's end reaches the guest
  ::close(client);
  bridge->reset();
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(VfkitVsockBridge, ListenModeJoinsEachGuestConnectionToTheHostServer) {
  const auto path = tmp.path() / "host.sock";
  const int server = unix_socket_at(path, true);
  ASSERT_GE(server, 0);
  auto bridge = VsockBridge::start({7, path, true}, guest.vsock());
  ASSERT_TRUE(Ok(bridge));
  EXPECT_EQ(guest.ports.front(), 7u);
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
  guest.on_connection(FileDescriptor(pair[0]));
  const int host_side = ::accept(server, nullptr, nullptr);
  ASSERT_GE(host_side, 0);
  send(pair[1], "from the guest");
  EXPECT_EQ(read_some(host_side), "from the guest");
  send(host_side, "from the host");
  EXPECT_EQ(read_some(pair[1]), "from the host");
  bridge->reset();
  EXPECT_FALSE(guest.on_connection);  // the guest port is no longer listened on
  EXPECT_TRUE(std::filesystem::exists(path));  // the host's socket is not the bridge's to remove
  ::close(host_side);
  ::close(pair[1]);
  ::close(server);
}

TEST_F(VfkitVsockBridge, AStaleSocketIsReplacedAndOtherFilesAreRefused) {
  const auto path = tmp.path() / "stale.sock";
  ::close(unix_socket_at(path, true));  // leaves the socket file behind
  auto bridge = VsockBridge::start({5, path, false}, guest.vsock());
  EXPECT_TRUE(Ok(bridge));
  const auto file = tmp.file("plain");
  EXPECT_TRUE(FailsWith(VsockBridge::start({5, file, false}, guest.vsock()), vmm::Errc::invalid_config,
                        {"virtio-vsock port 5", "not a socket"}));
}

TEST_F(VfkitVsockBridge, OverAVirtualMachineItUsesConnectVsockAndListenVsock) {
  vmm::testing::FakeVm fake{vmm::testing::base_config(tmp)};
  fake.drive_to(vmm::VmState::running);
  const auto path = tmp.path() / "vm.sock";
  auto connect_bridge = VsockBridge::start({1234, path, false}, GuestVsock::of(fake.vm));
  ASSERT_TRUE(Ok(connect_bridge));
  const int client = unix_socket_at(path, false);
  ASSERT_GE(client, 0);
  EXPECT_TRUE(fake.control->wait_for_call("connect_vsock:1234"));
  ::close(client);
  auto listen_bridge = VsockBridge::start({4321, tmp.path() / "none.sock", true}, GuestVsock::of(fake.vm));
  ASSERT_TRUE(Ok(listen_bridge));
  EXPECT_TRUE(fake.control->wait_for_call("listen_vsock:4321"));
  // A guest connection while nobody serves the host socket is closed, not a crash.
  EXPECT_TRUE(fake.control->emit_vsock_connection(4321));
  EXPECT_TRUE(fake.control->drain());
  listen_bridge->reset();
  EXPECT_TRUE(fake.control->wait_for_call("unlisten_vsock:4321"));
}

}  // namespace
}  // namespace vmm_test
