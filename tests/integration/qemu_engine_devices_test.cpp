// The QEMU engine against real QEMU and the test guest: every device the backend offers on this
// host, the q35 machine, and the configurations refused before QEMU runs. TCG, 256 MiB, 1 vCPU.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>

#include "guest_fixture.hpp"
#include "machine/engine.hpp"
#include "qemu_engine_fixture.hpp"

namespace vmm::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using engine_tests::await;
using engine_tests::QemuEngineTest;

// Every device the QEMU backend offers on this host, so that each argv form is checked by the
// real QEMU 7.2, not only by the unit tests: QEMU refuses unknown or malformed options at start.
TEST_F(QemuEngineTest, BootsWithDisksNetworksAShareAndVirtioDevices) {
  const auto disk = dir_.path() / "disk.img";
  std::filesystem::resize_file((std::ofstream(disk), disk), 16 * 1024 * 1024);
  DiskImage read_only;
  read_only.path = dir_.path() / "ro.img";
  std::filesystem::resize_file((std::ofstream(read_only.path), read_only.path), 1024 * 1024);
  read_only.read_only = true;
  read_only.caching = CachingMode::uncached;
  read_only.sync = SyncMode::none;
  read_only.device_id = "ro,disk";

  std::array<int, 2> frames{};
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, frames.data()), 0);
  const FileDescriptor host_end(frames[0]);
  const FileDescriptor vm_end(frames[1]);
  const auto peer = dir_.path() / "peer.sock";
  const FileDescriptor peer_socket(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", peer.c_str());
  ASSERT_EQ(::bind(peer_socket.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address),
            0);

  auto builder = guest_config(assets_);
  builder.disk(disk)
      .disk(read_only)
      .nat_network()
      .network(FileHandleNetwork{vm_end.get(), 1500})
      .network(UnixDatagramNetwork{peer, 1500})
      .entropy()
      .balloon();
  if (std::filesystem::exists("/usr/lib/qemu/virtiofsd")) {
    const auto shared = dir_.path() / "shared";
    std::filesystem::create_directories(shared);
    builder.share("shared", shared);
  }
  auto engine = make(builder, console_, listener_);
  ASSERT_TRUE(engine) << engine.error().to_string();
  engine_ = std::move(*engine);
  auto started = await([&](auto done) { engine_->start(done); });
  ASSERT_TRUE(started) << started.error().to_string();
  EXPECT_TRUE(console_.wait_for_line("VMM-GUEST-READY", kBoot));
  const auto support = engine_->check_save_support();
  if (std::filesystem::exists("/usr/lib/qemu/virtiofsd")) {
    ASSERT_FALSE(support);
    EXPECT_EQ(support.error().code(), Errc::unsupported);
    EXPECT_THAT(support.error().message(), HasSubstr("shared"));
  }
  ASSERT_TRUE(await([&](auto done) { engine_->stop(done); }));
  EXPECT_THAT(listener_->failures(), ::testing::IsEmpty());
}

// NVMe and USB disks on q35, found in the guest: qemu_q35_disks_test.cpp.

TEST_F(QemuEngineTest, UnsupportedFeaturesFailAtCreate) {
  if (std::filesystem::exists("/dev/vhost-vsock")) GTEST_SKIP() << "this host has vhost-vsock";
  auto builder = guest_config(assets_);
  builder.vsock();
  const auto engine = make(builder, console_, listener_);
  ASSERT_FALSE(engine);
  EXPECT_EQ(engine.error().code(), Errc::unsupported);
  EXPECT_THAT(engine.error().message(), HasSubstr("/dev/vhost-vsock"));
}

TEST_F(QemuEngineTest, MissingQemuBinaryIsNotFoundNamingThePackage) {
  auto config = guest_config(assets_).build();
  ASSERT_TRUE(config);
  auto options = guest_create_options(console_);
  options.qemu.binary = dir_.path() / "qemu-system-x86_64";
  const auto engine = detail::make_qemu_engine(*config, options, dir_.path() / "work");
  ASSERT_FALSE(engine);
  EXPECT_EQ(engine.error().code(), Errc::not_found);
  EXPECT_THAT(engine.error().message(), HasSubstr("qemu-system-x86"));
}

// Whether a VM has a vsock device is decided once, by the core, before any engine call.
TEST_F(QemuEngineTest, VsockWithoutADeviceIsRefusedBeforeTheEngine) {
  auto config = guest_config(assets_).build();
  ASSERT_TRUE(config) << config.error().to_string();
  auto vm = VirtualMachine::create(*config, guest_create_options(console_));
  ASSERT_TRUE(vm) << vm.error().to_string();
  auto future = (*vm)->connect_vsock(1024);
  ASSERT_EQ(future.wait_for(kEvent), std::future_status::ready);
  const auto connected = future.get();
  ASSERT_FALSE(connected);
  EXPECT_EQ(connected.error().code(), Errc::invalid_config);
  EXPECT_THAT(connected.error().message(), HasSubstr("no vsock device"));
  const auto listening = (*vm)->listen_vsock(1024, [](FileDescriptor) {});
  ASSERT_FALSE(listening);
  EXPECT_EQ(listening.error().code(), Errc::invalid_config);
}

}  // namespace
}  // namespace vmm::testing
