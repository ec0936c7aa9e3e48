// FileDescriptor: owns and closes, moves, release, reset.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <utility>

#include "vmm/file_descriptor.hpp"

namespace {

using vmm::FileDescriptor;

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

struct Pipe {
  Pipe() { ok = ::pipe(fds) == 0; }
  int fds[2] = {-1, -1};
  bool ok = false;
};

TEST(FileDescriptorTest, DefaultIsEmpty) {
  const FileDescriptor fd;
  EXPECT_EQ(fd.get(), -1);
  EXPECT_FALSE(fd.valid());
  EXPECT_FALSE(static_cast<bool>(fd));
}

TEST(FileDescriptorTest, ClosesOnDestruction) {
  Pipe p;
  ASSERT_TRUE(p.ok);
  {
    const FileDescriptor read_end(p.fds[0]);
    const FileDescriptor write_end(p.fds[1]);
    EXPECT_TRUE(read_end.valid());
    EXPECT_TRUE(static_cast<bool>(read_end));
    EXPECT_EQ(read_end.get(), p.fds[0]);
    EXPECT_TRUE(is_open(p.fds[0]));
  }
  errno = 0;
  EXPECT_EQ(::fcntl(p.fds[0], F_GETFD), -1);
  EXPECT_EQ(errno, EBADF);
  EXPECT_FALSE(is_open(p.fds[1]));
}

TEST(FileDescriptorTest, MoveConstructionTransfersOwnership) {
  Pipe p;
  ASSERT_TRUE(p.ok);
  ::close(p.fds[1]);
  FileDescriptor a(p.fds[0]);
  {
    FileDescriptor b(std::move(a));
    EXPECT_EQ(b.get(), p.fds[0]);
    EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): moved-from state is specified
    EXPECT_EQ(a.get(), -1);   // NOLINT(bugprone-use-after-move)
    EXPECT_TRUE(is_open(p.fds[0]));
  }
  EXPECT_FALSE(is_open(p.fds[0]));
}

TEST(FileDescriptorTest, MoveAssignmentClosesTheOldDescriptor) {
  Pipe first;
  Pipe second;
  ASSERT_TRUE(first.ok && second.ok);
  ::close(first.fds[1]);
  ::close(second.fds[1]);
  FileDescriptor a(first.fds[0]);
  {
    FileDescriptor b(second.fds[0]);
    b = std::move(a);
    EXPECT_FALSE(is_open(second.fds[0]));
    EXPECT_TRUE(is_open(first.fds[0]));
    EXPECT_EQ(b.get(), first.fds[0]);
    EXPECT_EQ(a.get(), -1);  // NOLINT(bugprone-use-after-move)
  }
  EXPECT_FALSE(is_open(first.fds[0]));
}

TEST(FileDescriptorTest, SelfMoveAssignmentKeepsTheDescriptor) {
  Pipe p;
  ASSERT_TRUE(p.ok);
  ::close(p.fds[1]);
  FileDescriptor a(p.fds[0]);
  FileDescriptor& alias = a;
  a = std::move(alias);
  EXPECT_EQ(a.get(), p.fds[0]);
  EXPECT_TRUE(is_open(p.fds[0]));
}

TEST(FileDescriptorTest, ReleaseGivesUpOwnership) {
  Pipe p;
  ASSERT_TRUE(p.ok);
  ::close(p.fds[1]);
  int released = -1;
  {
    FileDescriptor fd(p.fds[0]);
    released = fd.release();
    EXPECT_FALSE(fd.valid());
    EXPECT_EQ(fd.get(), -1);
  }
  EXPECT_EQ(released, p.fds[0]);
  EXPECT_TRUE(is_open(released));
  ::close(released);
}

TEST(FileDescriptorTest, ResetClosesAndTakesTheNewDescriptor) {
  Pipe p;
  ASSERT_TRUE(p.ok);
  FileDescriptor fd(p.fds[0]);
  fd.reset(p.fds[1]);
  EXPECT_FALSE(is_open(p.fds[0]));
  EXPECT_TRUE(is_open(p.fds[1]));
  EXPECT_EQ(fd.get(), p.fds[1]);
  fd.reset(p.fds[1]);  // the same descriptor: kept open
  EXPECT_TRUE(is_open(p.fds[1]));
  fd.reset();
  EXPECT_FALSE(is_open(p.fds[1]));
  EXPECT_FALSE(fd.valid());
  fd.reset();  // resetting an empty descriptor is harmless
  EXPECT_EQ(fd.get(), -1);
}

}  // namespace
