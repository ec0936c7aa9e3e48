// The console pump shared by the backends: lines, tee, input, draining at stop, and stopping
// from inside a line callback.
#include "runtime/console_pump.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <condition_variable>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace vmm::detail {
namespace {

using ::testing::ElementsAre;

std::array<FileDescriptor, 2> pipe_ends() {
  std::array<int, 2> fds{};
  EXPECT_EQ(::pipe(fds.data()), 0);
  return {FileDescriptor(fds[0]), FileDescriptor(fds[1])};
}

std::array<FileDescriptor, 2> socket_ends() {
  std::array<int, 2> fds{};
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds.data()), 0);
  return {FileDescriptor(fds[0]), FileDescriptor(fds[1])};
}

void write_text(const FileDescriptor& fd, std::string_view text) {
  ASSERT_EQ(::write(fd.get(), text.data(), text.size()), static_cast<ssize_t>(text.size()));
}

class Lines {
 public:
  ConsolePump::OnLine sink() {
    return [this](std::string_view line) {
      std::lock_guard lock(mutex_);
      lines_.emplace_back(line);
    };
  }
  std::vector<std::string> get() {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  bool wait_for(std::size_t count) {
    return support::wait_until([&] { return get().size() >= count; });
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

TEST(ConsolePump, DeliversLinesAndCopiesBytesToTheTee) {
  support::TempDir dir;
  const auto tee_path = dir.path() / "serial.log";
  FileDescriptor tee(::open(tee_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644));
  auto [read_end, write_end] = pipe_ends();
  Lines lines;
  auto pump = ConsolePump::start({std::move(read_end), std::move(tee), -1}, lines.sink());
  ASSERT_TRUE(pump) << pump.error().to_string();
  write_text(write_end, "one\r\ntwo\nthr");
  write_text(write_end, "ee");
  write_end.reset();  // end of stream: the partial line comes out
  ASSERT_TRUE(lines.wait_for(3));
  EXPECT_THAT(lines.get(), ElementsAre("one", "two", "three"));
  pump->reset();
  std::ifstream in(tee_path, std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "one\r\ntwo\nthree");
}

TEST(ConsolePump, StopDrainsWhatTheSourceAlreadyHolds) {
  auto [ours, guest] = socket_ends();
  Lines lines;
  auto pump = ConsolePump::start({std::move(ours), FileDescriptor(), -1}, lines.sink());
  ASSERT_TRUE(pump);
  write_text(guest, "last words\nno newline");
  (*pump)->stop();  // the guest side is still open: only draining ends the thread
  EXPECT_THAT(lines.get(), ElementsAre("last words", "no newline"));
}

TEST(ConsolePump, ForwardsInputToTheSourceUntilTheInputCloses) {
  auto [ours, guest] = socket_ends();
  auto [input_read, input_write] = pipe_ends();
  Lines lines;
  auto pump = ConsolePump::start({std::move(ours), FileDescriptor(), input_read.get()}, lines.sink());
  ASSERT_TRUE(pump);
  write_text(input_write, "ls\n");
  std::array<char, 8> buffer{};
  ASSERT_EQ(::read(guest.get(), buffer.data(), buffer.size()), 3);
  EXPECT_EQ(std::string(buffer.data(), 3), "ls\n");
  input_write.reset();  // input ends; output goes on
  write_text(guest, "still here\n");
  ASSERT_TRUE(lines.wait_for(1));
  EXPECT_THAT(lines.get(), ElementsAre("still here"));
}

TEST(ConsolePump, ATeeWithoutReaderIsDroppedAndLinesGoOn) {
  auto [tee_read, tee_write] = pipe_ends();
  tee_read.reset();  // writing to the tee now fails with EPIPE (SIGPIPE is blocked)
  auto [read_end, write_end] = pipe_ends();
  Lines lines;
  auto pump = ConsolePump::start({std::move(read_end), std::move(tee_write), -1}, lines.sink());
  ASSERT_TRUE(pump);
  write_text(write_end, "a\nb\n");
  ASSERT_TRUE(lines.wait_for(2));
  EXPECT_THAT(lines.get(), ElementsAre("a", "b"));
}

TEST(ConsolePump, CanBeDestroyedFromItsOwnLineCallback) {
  auto [read_end, write_end] = pipe_ends();
  std::mutex mutex;
  std::condition_variable changed;
  std::unique_ptr<ConsolePump> pump;
  bool destroyed = false;
  std::unique_lock lock(mutex);
  auto started = ConsolePump::start({std::move(read_end), FileDescriptor(), -1},
                                    [&](std::string_view) {
                                      std::lock_guard inner(mutex);
                                      pump.reset();  // joins nothing: detaches itself
                                      destroyed = true;
                                      changed.notify_all();
                                    });
  ASSERT_TRUE(started);
  pump = std::move(*started);
  lock.unlock();
  write_text(write_end, "bye\n");
  lock.lock();
  EXPECT_TRUE(changed.wait_for(lock, support::kTimeout, [&] { return destroyed; }));
}

TEST(ConsolePump, NeedsASource) {
  auto pump = ConsolePump::start({}, {});
  ASSERT_FALSE(pump);
  EXPECT_EQ(pump.error().code(), Errc::invalid_config);
}

}  // namespace
}  // namespace vmm::detail
