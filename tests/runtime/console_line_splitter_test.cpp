#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "runtime/console_line_splitter.hpp"

namespace vmm::detail {
namespace {

struct Collect {
  std::vector<std::string> lines;
  ConsoleLineSplitter::Sink sink() {
    return [this](std::string_view line) { lines.emplace_back(line); };
  }
};

TEST(ConsoleLineSplitter, SplitsOnNewlineAndDropsCarriageReturn) {
  Collect out;
  ConsoleLineSplitter splitter;
  splitter.feed("login: \r\nroot\n\nlast", out.sink());
  EXPECT_EQ(out.lines, (std::vector<std::string>{"login: ", "root", ""}));
  splitter.flush(out.sink());
  EXPECT_EQ(out.lines.back(), "last");
}

TEST(ConsoleLineSplitter, JoinsLinesAcrossFeeds) {
  Collect out;
  ConsoleLineSplitter splitter;
  splitter.feed("Linux ver", out.sink());
  EXPECT_TRUE(out.lines.empty());
  splitter.feed("sion 6.1\r", out.sink());
  splitter.feed("\nnext", out.sink());
  EXPECT_EQ(out.lines, (std::vector<std::string>{"Linux version 6.1"}));
}

TEST(ConsoleLineSplitter, FlushWithNothingPendingDeliversNothing) {
  Collect out;
  ConsoleLineSplitter splitter;
  splitter.feed("done\n", out.sink());
  splitter.flush(out.sink());
  EXPECT_EQ(out.lines.size(), 1U);
}

TEST(ConsoleLineSplitter, OverlongLinesAreCut) {
  Collect out;
  ConsoleLineSplitter splitter(4);
  splitter.feed("abcdefghij\nxy\n", out.sink());
  EXPECT_EQ(out.lines, (std::vector<std::string>{"abcd", "efgh", "ij", "xy"}));
}

TEST(ConsoleLineSplitter, NewlineRightAfterACutMakesNoEmptyLine) {
  Collect out;
  ConsoleLineSplitter splitter(4);
  splitter.feed("abcd", out.sink());
  splitter.feed("\nef\n", out.sink());
  EXPECT_EQ(out.lines, (std::vector<std::string>{"abcd", "ef"}));
}

TEST(ConsoleLineSplitter, UnterminatedOverlongTextComesInBoundedPiecesAndFlushDeliversTheRest) {
  Collect out;
  ConsoleLineSplitter splitter(4);
  splitter.feed("abcdefghij", out.sink());
  EXPECT_EQ(out.lines, (std::vector<std::string>{"abcd", "efgh"}));
  splitter.flush(out.sink());
  EXPECT_EQ(out.lines.back(), "ij");
  splitter.flush(out.sink());
  EXPECT_EQ(out.lines.size(), 3U);
}

}  // namespace
}  // namespace vmm::detail
