// Splitting the guest's serial stream into lines.
#include "qemu/console.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vmm::qemu {
namespace {

TEST(ConsoleLineSplitter, SplitsAcrossChunksAndStripsCarriageReturns) {
  ConsoleLineSplitter splitter;
  std::vector<std::string> lines;
  const auto sink = [&](std::string_view line) { lines.emplace_back(line); };
  splitter.feed("VMM-GUEST-RE", sink);
  EXPECT_TRUE(lines.empty());
  splitter.feed("ADY\r\nVMM-COUNTER 0\n\nVMM-COUN", sink);
  splitter.feed("TER 1\r\n", sink);
  EXPECT_EQ(lines, (std::vector<std::string>{"VMM-GUEST-READY", "VMM-COUNTER 0", "",
                                             "VMM-COUNTER 1"}));
}

TEST(ConsoleLineSplitter, LongLinesComeInBoundedPiecesAndFlushDeliversTheRest) {
  ConsoleLineSplitter splitter(4);
  std::vector<std::string> lines;
  const auto sink = [&](std::string_view line) { lines.emplace_back(line); };
  splitter.feed("abcdefghij", sink);
  EXPECT_EQ(lines, (std::vector<std::string>{"abcd", "efgh"}));
  splitter.flush(sink);
  EXPECT_EQ(lines.back(), "ij");
  splitter.flush(sink);
  EXPECT_EQ(lines.size(), 3u);
}

}  // namespace
}  // namespace vmm::qemu
