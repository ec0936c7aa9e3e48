// The save's state file writer: what QEMU streams into the pipe lands in the file, hashed on
// the way; failures are io naming the file and leave nothing behind.
#include "qemu/state_file_writer.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include "runtime/file_digest.hpp"

namespace vmm::qemu {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

class StateFileWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "vmm-writer-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(StateFileWriterTest, WritesTheStreamAndItsDigest) {
  const auto path = dir_ / "state.qemu";
  auto writer = StateFileWriter::create(path);
  ASSERT_TRUE(writer) << writer.error().to_string();
  // More than the pipe holds, in odd pieces, from the "QEMU" end.
  std::string data;
  for (std::uint64_t i = 0; data.size() < (3u << 20); ++i) data += std::to_string(i * 7919) + ",";
  const int end = ::dup((*writer)->qemu_end());
  (*writer)->close_qemu_end();
  std::thread qemu([&] {
    for (std::size_t at = 0; at < data.size();) {
      const auto n = ::write(end, data.data() + at, std::min<std::size_t>(70001, data.size() - at));
      ASSERT_GT(n, 0);
      at += static_cast<std::size_t>(n);
    }
    ::close(end);
  });
  auto digest = (*writer)->finish(10s);
  qemu.join();
  ASSERT_TRUE(digest) << digest.error().to_string();
  std::ifstream in(path, std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()),
            data);
  EXPECT_EQ(*digest, *detail::digest_file(path));
  EXPECT_TRUE(detail::is_digest_text(*digest));
  writer->reset();
  EXPECT_TRUE(fs::exists(path)) << "a finished file is kept";
}

TEST_F(StateFileWriterTest, AbandonRemovesTheFile) {
  const auto path = dir_ / "state.qemu";
  auto writer = StateFileWriter::create(path);
  ASSERT_TRUE(writer);
  ASSERT_EQ(::write((*writer)->qemu_end(), "abc", 3), 3);
  (*writer)->abandon();
  EXPECT_FALSE(fs::exists(path));
}

TEST_F(StateFileWriterTest, AnExistingFileIsRefusedNamingIt) {
  const auto path = dir_ / "state.qemu";
  std::ofstream(path) << "older";
  auto writer = StateFileWriter::create(path);
  ASSERT_FALSE(writer);
  EXPECT_EQ(writer.error().code(), Errc::io);
  EXPECT_THAT(writer.error().message(), HasSubstr(path.string()));
}

TEST_F(StateFileWriterTest, AStreamThatNeverEndsTimesOutAndLeavesNothing) {
  const auto path = dir_ / "state.qemu";
  auto writer = StateFileWriter::create(path);
  ASSERT_TRUE(writer);
  const int end = ::dup((*writer)->qemu_end());  // "QEMU" never closes its end
  auto digest = (*writer)->finish(100ms);
  ::close(end);
  ASSERT_FALSE(digest);
  EXPECT_THAT(digest.error().message(), HasSubstr(path.string()));
  EXPECT_FALSE(fs::exists(path));
}

}  // namespace
}  // namespace vmm::qemu
