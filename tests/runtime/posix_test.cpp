// The shared POSIX helpers of src/runtime/posix.hpp.
#include "runtime/posix.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <thread>

#include "support/temp_dir.hpp"
#include "vmm/file_descriptor.hpp"

namespace vmm::detail {
namespace {

using ::testing::HasSubstr;

TEST(Posix, ErrnoErrorNamesWhatAndTheReason) {
  const Error error = errno_error(Errc::io, "opening x", ENOENT);
  EXPECT_EQ(error.code(), Errc::io);
  EXPECT_EQ(error.message(), "opening x: No such file or directory");
}

TEST(Posix, WriteAllWritesEverythingAndReportsAClosedReader) {
  std::array<int, 2> fds{};
  ASSERT_EQ(::pipe(fds.data()), 0);
  FileDescriptor read_end(fds[0]);
  FileDescriptor write_end(fds[1]);
  ASSERT_TRUE(write_all(write_end.get(), "hello\n"));
  std::array<char, 16> buffer{};
  ASSERT_EQ(::read(read_end.get(), buffer.data(), buffer.size()), 6);
  EXPECT_EQ(std::string(buffer.data(), 6), "hello\n");
  EXPECT_FALSE(write_all(-1, "x"));
}

TEST(Posix, QuotedPath) { EXPECT_EQ(quoted("/a b/c"), "\"/a b/c\""); }

TEST(Posix, UnixSocketAddressTakesPathsUpToTheHostLimit) {
  const std::string longest(host_max_unix_socket_path, 'a');
  auto address = unix_socket_address(longest);
  ASSERT_TRUE(address) << address.error().to_string();
  EXPECT_EQ(address->sun_family, AF_UNIX);
  EXPECT_EQ(std::string(address->sun_path), longest);

  auto too_long = unix_socket_address(longest + "a");
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().code(), Errc::invalid_config);
  EXPECT_THAT(too_long.error().message(), HasSubstr("longer than a unix socket address allows"));
  EXPECT_FALSE(unix_socket_address(""));
  // The portable limit a config may use is never above this host's.
  EXPECT_LE(max_unix_socket_path, host_max_unix_socket_path);
}

TEST(Posix, UniqueDirectoriesArePrivateAndDistinct) {
  support::TempDir dir;
  auto first = make_unique_directory(dir.path() / "x-", "a test directory");
  auto second = make_unique_directory(dir.path() / "x-", "a test directory");
  ASSERT_TRUE(first) << first.error().to_string();
  ASSERT_TRUE(second) << second.error().to_string();
  EXPECT_NE(*first, *second);
  struct stat info {};
  ASSERT_EQ(::stat(first->c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);
  EXPECT_EQ(first->filename().string().rfind("x-", 0), 0u);

  auto missing = make_unique_directory(dir.path() / "no" / "such" / "x-", "a test directory");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Errc::io);
  EXPECT_THAT(missing.error().message(), HasSubstr("cannot create a test directory in"));
}

TEST(Posix, SocketPairsCarryBytesAndListeningSocketsReplaceStaleFiles) {
  auto pair = stream_socketpair();
  ASSERT_TRUE(pair) << pair.error().to_string();
  ASSERT_TRUE(write_all((*pair)[0].get(), "ping"));
  std::array<char, 4> got{};
  ASSERT_EQ(::read((*pair)[1].get(), got.data(), got.size()), 4);
  EXPECT_EQ(std::string(got.data(), got.size()), "ping");

  support::TempDir dir;
  const auto path = dir.path() / "s.sock";
  {
    auto first = listen_unix(path);
    ASSERT_TRUE(first) << first.error().to_string();
  }
  // The socket file left behind by the first listener is replaced, not an error.
  auto second = listen_unix(path);
  ASSERT_TRUE(second) << second.error().to_string();
  auto address = unix_socket_address(path);
  ASSERT_TRUE(address);
  FileDescriptor client(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_EQ(::connect(client.get(), reinterpret_cast<const sockaddr*>(&*address), sizeof *address),
            0);

  auto unusable = listen_unix(dir.path() / "no" / "such" / "s.sock");
  ASSERT_FALSE(unusable);
  EXPECT_EQ(unusable.error().code(), Errc::io);
  EXPECT_THAT(unusable.error().message(), HasSubstr("cannot listen on"));
}

TEST(Posix, JoinOrDetachJoinsFromOutsideAndDetachesFromInside) {
  bool ran = false;
  std::thread outside([&] { ran = true; });
  join_or_detach(outside);
  EXPECT_TRUE(ran);
  EXPECT_FALSE(outside.joinable());

  // From its own thread: no self-join (which would throw resource_deadlock_would_occur). What
  // the detached thread touches is shared with it, not local to the test: it may still be
  // inside set_value() or unlocking when the test returns (ASan saw that at exit).
  struct Shared {
    std::mutex started;
    std::promise<bool> detached;
    std::thread slot;
  };
  auto shared = std::make_shared<Shared>();
  auto result = shared->detached.get_future();
  std::unique_lock hold(shared->started);
  shared->slot = std::thread([shared] {
    { std::lock_guard wait(shared->started); }  // until the slot holds this thread
    join_or_detach(shared->slot);
    shared->detached.set_value(!shared->slot.joinable());
  });
  hold.unlock();
  ASSERT_EQ(result.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_TRUE(result.get());
}

}  // namespace
}  // namespace vmm::detail
