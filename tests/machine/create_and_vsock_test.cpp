// create(): backend selection and the working directory; vsock pass-through.
#include <gtest/gtest.h>

#include <gmock/gmock.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>

#include "machine/backends.hpp"
#include "support/fake_vm.hpp"
#include "runtime/work_directory.hpp"

namespace vmm::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(Create, AutomaticMeansTheHostsNativeBackend) {
#if defined(__APPLE__)
  EXPECT_EQ(detail::resolve_backend(Backend::automatic), Backend::virtualization_framework);
#else
  EXPECT_EQ(detail::resolve_backend(Backend::automatic), Backend::qemu);
#endif
  EXPECT_EQ(detail::resolve_backend(Backend::qemu), Backend::qemu);
  EXPECT_EQ(detail::resolve_backend(Backend::virtualization_framework),
            Backend::virtualization_framework);
}

#if !defined(__APPLE__)
TEST(Create, VirtualizationFrameworkOffAppleIsUnsupportedNotACrash) {
  TempDir dir;
  CreateOptions options;
  options.backend = Backend::virtualization_framework;
  auto vm = VirtualMachine::create(base_config(dir), options);
  ASSERT_FALSE(vm);
  EXPECT_EQ(vm.error().code(), Errc::unsupported);
}
#endif

TEST(WorkDirectory, PrivateTemporaryDirectoryIsRemoved) {
  std::filesystem::path path;
  {
    auto work = detail::WorkDirectory::prepare({});
    ASSERT_TRUE(work) << work.error().to_string();
    path = work->path();
    EXPECT_TRUE(work->owned());
    struct stat info {};
    ASSERT_EQ(::stat(path.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0700u);
    std::ofstream(path / "runtime.sock") << "x";
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(WorkDirectory, CallersDirectoryIsCreatedAndKept) {
  TempDir dir;
  const auto requested = dir.path() / "a" / "work";
  {
    auto work = detail::WorkDirectory::prepare(requested);
    ASSERT_TRUE(work);
    EXPECT_FALSE(work->owned());
    EXPECT_TRUE(std::filesystem::is_directory(requested));
  }
  EXPECT_TRUE(std::filesystem::is_directory(requested));
}

TEST(WorkDirectory, UnusablePathIsAnIoErrorNamingIt) {
  TempDir dir;
  const auto file = dir.file("plain");
  auto work = detail::WorkDirectory::prepare(file / "work");
  ASSERT_FALSE(work);
  EXPECT_EQ(work.error().code(), Errc::io);
  EXPECT_THAT(work.error().message(), HasSubstr("plain/work"));
}

class Vsock : public ::testing::Test {
 protected:
  TempDir dir_;
  FakeVm fake_{base_config(dir_)};
};

TEST_F(Vsock, ConnectPassesThroughWhenRunning) {
  fake_.drive_to(VmState::running);
  auto fd = await(fake_.vm->connect_vsock(1024));
  ASSERT_TRUE(fd) << fd.error().to_string();
  EXPECT_TRUE(fd->valid());
  EXPECT_THAT(fake_.control->calls(), ::testing::Contains("connect_vsock:1024"));
}

TEST_F(Vsock, ConnectIsRefusedUnlessRunning) {
  fake_.drive_to(VmState::paused);
  auto fd = await(fake_.vm->connect_vsock(1024));
  ASSERT_FALSE(fd);
  EXPECT_EQ(fd.error().code(), Errc::invalid_state);
  EXPECT_EQ(fd.error().message(), "connect_vsock: not allowed while the VM is paused");
}

TEST_F(Vsock, ListenBeforeStartDeliversAndLastsAcrossARestart) {
  std::atomic<int> delivered{0};
  auto listening = fake_.vm->listen_vsock(5000, [&](FileDescriptor fd) {
    if (fd.valid()) ++delivered;
  });
  ASSERT_TRUE(listening) << listening.error().to_string();
  fake_.drive_to(VmState::running);
  ASSERT_TRUE(fake_.control->emit_vsock_connection(5000));
  ASSERT_TRUE(support::wait_until([&] { return delivered.load() == 1; }));
  ASSERT_TRUE(await(fake_.vm->stop()));
  ASSERT_TRUE(await(fake_.vm->start()));
  ASSERT_TRUE(fake_.control->emit_vsock_connection(5000));
  ASSERT_TRUE(support::wait_until([&] { return delivered.load() == 2; }));
  // One registration with the engine for both runs, not one per start.
  EXPECT_EQ(fake_.control->count("listen_vsock:5000"), 1u);
  EXPECT_EQ(fake_.control->count("unlisten_vsock:5000"), 0u);
}

TEST_F(Vsock, ListenLastsAsLongAsItsSubscription) {
  fake_.drive_to(VmState::running);
  auto listening = fake_.vm->listen_vsock(5000, [](FileDescriptor) {});
  ASSERT_TRUE(listening) << listening.error().to_string();
  listening->reset();
  const auto calls = fake_.control->calls();
  EXPECT_THAT(std::vector<std::string>(calls.end() - 2, calls.end()),
              ElementsAre("listen_vsock:5000", "unlisten_vsock:5000"));
}

TEST(VsockWithoutDevice, IsRefusedNamingTheConfig) {
  TempDir dir;
  auto config = VmConfig::builder().linux_boot(dir.file("vmlinuz")).build();
  ASSERT_TRUE(config) << config.error().to_string();
  FakeVm fake(*config);
  fake.drive_to(VmState::running);
  auto fd = await(fake.vm->connect_vsock(1));
  ASSERT_FALSE(fd);
  EXPECT_EQ(fd.error().code(), Errc::invalid_config);
  EXPECT_THAT(fd.error().message(), HasSubstr("no vsock device"));
  EXPECT_EQ(fake.control->count("connect_vsock:1"), 0u);
}

}  // namespace
}  // namespace vmm::testing
