// ConsoleReader over a real pipe: lines to the callback, bytes to the tee.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.hpp"
#include "vz/console_reader.hpp"

namespace vmm::vz {
namespace {

using namespace std::chrono_literals;

struct Lines {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> lines;

  ConsoleReader::OnLine callback() {
    return [this](std::string_view line) {
      std::lock_guard lock(mutex);
      lines.emplace_back(line);
      changed.notify_all();
    };
  }
  bool wait_for(std::size_t count) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, 5s, [&] { return lines.size() >= count; });
  }
};

void write_text(const FileDescriptor& fd, std::string_view text) {
  ASSERT_EQ(::write(fd.get(), text.data(), text.size()), static_cast<ssize_t>(text.size()));
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(VzConsoleReader, DeliversLinesAndTheLastPartialLineAtEndOfStream) {
  auto pipe = make_console_pipe();
  ASSERT_TRUE(pipe);
  Lines lines;
  auto reader = ConsoleReader::start(std::move(pipe->first), FileDescriptor(), lines.callback());
  ASSERT_TRUE(reader);
  write_text(pipe->second, "[    0.000000] Booting Linux\r\nWelc");
  write_text(pipe->second, "ome\nlogin: ");
  ASSERT_TRUE(lines.wait_for(2));
  pipe->second.reset();  // end of stream, as when VZ releases the write end
  ASSERT_TRUE(lines.wait_for(3));
  std::lock_guard lock(lines.mutex);
  EXPECT_EQ(lines.lines,
            (std::vector<std::string>{"[    0.000000] Booting Linux", "Welcome", "login: "}));
}

TEST(VzConsoleReader, CopiesEveryByteToTheTeeFile) {
  test::Scratch scratch;
  const auto log = scratch.file("console.log", "old\n");
  auto tee = open_serial_tee(SerialFilePlan{log, true});
  ASSERT_TRUE(tee);
  auto pipe = make_console_pipe();
  ASSERT_TRUE(pipe);
  Lines lines;
  auto reader = ConsoleReader::start(std::move(pipe->first), std::move(*tee), lines.callback());
  ASSERT_TRUE(reader);
  write_text(pipe->second, "one\r\ntwo\n");
  ASSERT_TRUE(lines.wait_for(2));
  reader->reset();  // stops and joins: every byte read has been written
  EXPECT_EQ(read_file(log), "old\none\r\ntwo\n");
}

TEST(VzConsoleReader, TruncatingTeeStartsTheFileAfresh) {
  test::Scratch scratch;
  const auto log = scratch.file("console.log", "old\n");
  auto tee = open_serial_tee(SerialFilePlan{log, false});
  ASSERT_TRUE(tee);
  EXPECT_EQ(read_file(log), "");
}

TEST(VzConsoleReader, FdTeeIsADuplicateTheCallerKeeps) {
  auto target = make_console_pipe();
  ASSERT_TRUE(target);
  auto tee = open_serial_tee(SerialFdPlan{target->second.get()});
  ASSERT_TRUE(tee);
  EXPECT_NE(tee->get(), target->second.get());
  tee->reset();
  // The caller's descriptor is still open.
  write_text(target->second, "x");
}

TEST(VzConsoleReader, NoTeeIsAnInvalidDescriptor) {
  auto tee = open_serial_tee(std::monostate{});
  ASSERT_TRUE(tee);
  EXPECT_FALSE(tee->valid());
}

TEST(VzConsoleReader, UnopenableTeeFileIsAnIoError) {
  auto tee = open_serial_tee(SerialFilePlan{"/nonexistent-dir/console.log", true});
  ASSERT_FALSE(tee);
  EXPECT_EQ(tee.error().code(), Errc::io);
  EXPECT_NE(tee.error().message().find("/nonexistent-dir/console.log"), std::string::npos);
}

TEST(VzConsoleReader, DestroyingStopsAReaderThatSeesNoEndOfStream) {
  auto pipe = make_console_pipe();
  ASSERT_TRUE(pipe);
  Lines lines;
  auto reader = ConsoleReader::start(std::move(pipe->first), FileDescriptor(), lines.callback());
  ASSERT_TRUE(reader);
  const auto before = std::chrono::steady_clock::now();
  reader->reset();  // the write end stays open: only the stop pipe can end the thread
  EXPECT_LT(std::chrono::steady_clock::now() - before, 2s);
}

TEST(VzConsoleReader, DestroyingFromItsOwnCallbackDoesNotDeadlock) {
  auto pipe = make_console_pipe();
  ASSERT_TRUE(pipe);
  std::unique_ptr<ConsoleReader> reader;
  std::mutex mutex;
  std::condition_variable done;
  bool destroyed = false;
  auto started = ConsoleReader::start(std::move(pipe->first), FileDescriptor(),
                                      [&](std::string_view) {
                                        std::unique_ptr<ConsoleReader> self;
                                        {
                                          std::lock_guard lock(mutex);
                                          self = std::move(reader);
                                        }
                                        self.reset();  // on the reader's own thread
                                        std::lock_guard lock(mutex);
                                        destroyed = true;
                                        done.notify_all();
                                      });
  ASSERT_TRUE(started);
  {
    std::lock_guard lock(mutex);
    reader = std::move(*started);
  }
  write_text(pipe->second, "bye\n");
  std::unique_lock lock(mutex);
  EXPECT_TRUE(done.wait_for(lock, 5s, [&] { return destroyed; }));
}

TEST(VzConsoleReader, ATeeWithoutReaderIsDroppedAndLinesGoOn) {
  auto target = make_console_pipe();
  ASSERT_TRUE(target);
  auto tee = open_serial_tee(SerialFdPlan{target->second.get()});
  ASSERT_TRUE(tee);
  target->first.reset();  // nobody reads the tee any more: writes to it fail with EPIPE
  auto pipe = make_console_pipe();
  ASSERT_TRUE(pipe);
  Lines lines;
  auto reader = ConsoleReader::start(std::move(pipe->first), std::move(*tee), lines.callback());
  ASSERT_TRUE(reader);
  write_text(pipe->second, "first\nsecond\n");
  EXPECT_TRUE(lines.wait_for(2));
}

}  // namespace
}  // namespace vmm::vz
