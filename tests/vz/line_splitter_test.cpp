#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "vz/line_splitter.hpp"

namespace vmm::vz {
namespace {

struct Collect {
  std::vector<std::string> lines;
  LineSplitter::Sink sink() {
    return [this](std::string_view line) { lines.emplace_back(line); };
  }
};

TEST(VzLineSplitter, SplitsOnNewlineAndDropsCarriageReturn) {
  Collect out;
  LineSplitter splitter;
  splitter.feed("login: \r\nroot\n\nlast", out.sink());
  EXPECT_EQ(out.lines, (std::vector<std::string>{"login: ", "root", ""}));
  splitter.flush(out.sink());
  EXPECT_EQ(out.lines.back(), "last");
}

TEST(VzLineSplitter, JoinsLinesAcrossFeeds) {
  Collect out;
  LineSplitter splitter;
  splitter.feed("Linux ver", out.sink());
  EXPECT_TRUE(out.lines.empty());
  splitter.feed("sion 6.1\r", out.sink());
  splitter.feed("\nnext", out.sink());
  EXPECT_EQ(out.lines, (std::vector<std::string>{"Linux version 6.1"}));
}

TEST(VzLineSplitter, FlushWithNothingPendingDeliversNothing) {
  Collect out;
  LineSplitter splitter;
  splitter.feed("done\n", out.sink());
  splitter.flush(out.sink());
  EXPECT_EQ(out.lines.size(), 1U);
}

TEST(VzLineSplitter, OverlongLinesAreCut) {
  Collect out;
  LineSplitter splitter(4);
  splitter.feed("abcdefghij\nxy\n", out.sink());
  EXPECT_EQ(out.lines, (std::vector<std::string>{"abcd", "efgh", "ij", "xy"}));
}

TEST(VzLineSplitter, NewlineRightAfterACutMakesNoEmptyLine) {
  Collect out;
  LineSplitter splitter(4);
  splitter.feed("abcd", out.sink());
  splitter.feed("\nef\n", out.sink());
  EXPECT_EQ(out.lines, (std::vector<std::string>{"abcd", "ef"}));
}

}  // namespace
}  // namespace vmm::vz
