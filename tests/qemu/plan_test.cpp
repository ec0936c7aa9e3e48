// The QEMU runtime layout (qemu/plan.hpp): descriptor numbers, socket paths, the vsock CID.
#include "qemu/plan.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <unistd.h>

#include <array>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace vmm::qemu {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::ScratchDir;

class QemuPlanTest : public ::testing::Test {
 protected:
  VmConfigBuilder builder() {
    auto b = VmConfig::builder();
    b.linux_boot(scratch_.file("vmlinuz"));
    return b;
  }
  static VmConfig built(const VmConfigBuilder& b) {
    auto config = b.build();
    EXPECT_TRUE(config) << config.error().to_string();
    return *config;
  }
  ScratchDir scratch_;
};

TEST_F(QemuPlanTest, FixedDescriptorsThenOnePerFileHandleNetworkInOrder) {
  std::array<int, 2> a{};
  std::array<int, 2> b{};
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM, 0, a.data()), 0);
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM, 0, b.data()), 0);
  auto config = builder();
  config.network(FileHandleNetwork{a[0]})
      .nat_network()
      .network(UnixDatagramNetwork{scratch_.path() / "peer.sock"})
      .network(FileHandleNetwork{b[0]})
      .share("tag", scratch_.dir("shared"));
  const auto work = scratch_.dir("work");
  auto paths = plan_runtime_layout(built(config), work, {}, 4242);
  for (int fd : {a[0], a[1], b[0], b[1]}) ::close(fd);
  ASSERT_TRUE(paths) << paths.error().to_string();
  EXPECT_EQ(paths->qmp_fd, 3);
  EXPECT_EQ(paths->console_fd, 4);
  EXPECT_EQ(paths->virtio_console_fd, 5);
  EXPECT_THAT(paths->network_fds, ElementsAre(6, -1, -1, 7));
  EXPECT_THAT(paths->network_local_sockets,
              ElementsAre(std::filesystem::path{}, std::filesystem::path{}, work / "net2.sock",
                          std::filesystem::path{}));
  EXPECT_THAT(paths->virtiofs_sockets, ElementsAre(work / "fs0.sock"));
  EXPECT_EQ(paths->vsock_cid, 4242u);
}

TEST_F(QemuPlanTest, BlockDeviceFactsArePassedThrough) {
  auto config = builder();
  config.disk(scratch_.file("a.img")).disk(scratch_.file("b.img"));
  auto paths = plan_runtime_layout(built(config), scratch_.path(), {false, true}, 3);
  ASSERT_TRUE(paths);
  EXPECT_THAT(paths->disk_is_block_device, ElementsAre(false, true));
}

TEST_F(QemuPlanTest, AWorkingDirectoryTooLongForSocketPathsIsRefused) {
  auto config = builder();
  config.share("tag", scratch_.dir("shared"));
  const std::filesystem::path deep = "/" + std::string(120, 'w');
  auto paths = plan_runtime_layout(built(config), deep, {}, 3);
  ASSERT_FALSE(paths);
  EXPECT_EQ(paths.error().code(), Errc::invalid_config);
  EXPECT_THAT(paths.error().message(), HasSubstr("working_directory: "));
  EXPECT_THAT(paths.error().message(), HasSubstr("too long for unix socket paths"));
  // Without sockets the same directory is fine.
  EXPECT_TRUE(plan_runtime_layout(built(builder()), deep, {}, 3));
}

TEST(QemuVsockCid, IsAboveTheReservedCidsAndDistinctPerProcessAndSequence) {
  EXPECT_GE(vsock_cid_for(0, 0), 3u);
  EXPECT_NE(vsock_cid_for(100, 0), vsock_cid_for(100, 1));
  EXPECT_NE(vsock_cid_for(100, 0), vsock_cid_for(101, 0));
  EXPECT_EQ(vsock_cid_for(100, 5), vsock_cid_for(100, 5 + 1024)) << "the sequence wraps";
  EXPECT_EQ(vsock_cid_for(7, 3), 3u + 7u * 1024u + 3u);
}

}  // namespace
}  // namespace vmm::qemu
