// Disks whose path is a block device (here a loop device over a file the test makes) attach with
// QEMU's host_device driver: the guest writes to it and the host reads the same bytes back.
// Loop devices need root, which CI has: there a missing losetup or loop device is a failure.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "guest_fixture.hpp"
#include "support/files.hpp"

namespace vmm::testing {
namespace {

using namespace std::chrono_literals;
using support::read_head;

constexpr std::size_t kBackingBytes = 8 * 1024 * 1024;

std::string run_output(const std::string& command) {
  std::string out;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    std::array<char, 256> buffer{};
    while (std::fgets(buffer.data(), static_cast<int>(buffer.size()), pipe) != nullptr) {
      out += buffer.data();
    }
    ::pclose(pipe);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// A loop device over `backing`, detached on every path out of the test.
class LoopDevice {
 public:
  explicit LoopDevice(const std::filesystem::path& backing)
      : device_(run_output("losetup -f --show '" + backing.string() + "' 2>/dev/null")) {}
  ~LoopDevice() { detach(); }
  LoopDevice(const LoopDevice&) = delete;
  LoopDevice& operator=(const LoopDevice&) = delete;

  const std::string& path() const { return device_; }
  bool attached() const { return device_.rfind("/dev/loop", 0) == 0; }
  void detach() {
    if (attached()) {
      (void)std::system(("losetup -d '" + device_ + "'").c_str());
      device_.clear();
    }
  }

 private:
  std::string device_;
};

class QemuBlockDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    assets_ = find_guest_assets();
    VMM_REQUIRE_GUEST(assets_);
    if (::geteuid() != 0 || std::system("command -v losetup >/dev/null 2>&1") != 0) {
      if (running_in_ci()) FAIL() << "loop devices need root and losetup (util-linux)";
      GTEST_SKIP() << "loop devices need root and losetup";
    }
    backing_ = dir_.path() / "backing.img";
    std::filesystem::resize_file((std::ofstream(backing_), backing_), kBackingBytes);
    loop_ = std::make_unique<LoopDevice>(backing_);
    ASSERT_TRUE(loop_->attached()) << "losetup -f --show failed (no free loop device?)";
    ASSERT_TRUE(std::filesystem::is_block_file(loop_->path()));
  }
  void TearDown() override {
    if (vm_) {
      EXPECT_TRUE(vm_->stop().get());
    }
    vm_.reset();
    loop_.reset();
    EXPECT_THAT(child_qemu_pids(), ::testing::IsEmpty());
  }

  void boot(const DiskImage& disk, const std::string& guest_options) {
    auto builder = guest_config(assets_, guest_options);
    builder.disk(disk);
    auto config = builder.build();
    ASSERT_TRUE(config) << config.error().to_string();
    auto vm = VirtualMachine::create(*config, guest_create_options(console_));
    ASSERT_TRUE(vm) << vm.error().to_string();
    vm_ = std::move(*vm);
    auto started = vm_->start().get();
    ASSERT_TRUE(started) << started.error().to_string();
    ASSERT_TRUE(console_.wait_for_line("VMM-GUEST-READY", kBoot)) << "the guest did not boot";
  }

  GuestAssets assets_;
  GuestConsole console_;
  TempDir dir_;
  std::filesystem::path backing_;
  std::unique_ptr<LoopDevice> loop_;
  std::shared_ptr<VirtualMachine> vm_;
};

TEST_F(QemuBlockDeviceTest, GuestWritesReachTheBlockDevice) {
  const std::string pattern = "VMM-BLOCK-PATTERN-" + std::to_string(::getpid());
  DiskImage disk;
  disk.path = loop_->path();
  boot(disk, "vmm.write_vda=" + pattern);
  // The guest sees the whole device, and its write was flushed.
  EXPECT_TRUE(console_.wait_for_line("VMM-DISK vda " + std::to_string(kBackingBytes / 512), 0ms));
  ASSERT_TRUE(console_.wait_for_line("VMM-DISK-WRITTEN vda", 0ms));
  ASSERT_TRUE(vm_->stop().get());
  vm_.reset();
  const std::string expected = pattern + "\n";
  EXPECT_EQ(read_head(loop_->path(), expected.size()), expected);
  loop_->detach();  // flushes the loop device into its file
  EXPECT_EQ(read_head(backing_, expected.size()), expected);
}

// read_only opens the device O_RDONLY and the guest's disk is read-only: its write fails and
// the device keeps its bytes. Uncached (O_DIRECT) and sync none work on a block device too.
TEST_F(QemuBlockDeviceTest, ReadOnlyUncachedBlockDeviceRefusesTheGuestsWrite) {
  DiskImage disk;
  disk.path = loop_->path();
  disk.read_only = true;
  disk.caching = CachingMode::uncached;
  disk.sync = SyncMode::none;
  boot(disk, "vmm.write_vda=MUST-NOT-LAND");
  EXPECT_TRUE(console_.wait_for_line("VMM-DISK vda " + std::to_string(kBackingBytes / 512), 0ms));
  EXPECT_TRUE(console_.wait_for_line("VMM-DISK-WRITE-FAILED vda", 0ms));
  ASSERT_TRUE(vm_->stop().get());
  vm_.reset();
  loop_->detach();
  EXPECT_EQ(read_head(backing_, 16), std::string(16, '\0'));
}

}  // namespace
}  // namespace vmm::testing
