// Size: unit constructors, the strict parser, to_string and ordering.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "config/test_support.hpp"
#include "vmm/size.hpp"

namespace {

using testing::HasSubstr;
using vmm::Size;

TEST(SizeTest, UnitConstructors) {
  EXPECT_EQ(Size().as_bytes(), 0u);
  EXPECT_EQ(Size::bytes(5).as_bytes(), 5u);
  EXPECT_EQ(Size::kib(1).as_bytes(), 1024u);
  EXPECT_EQ(Size::mib(1).as_bytes(), 1048576u);
  EXPECT_EQ(Size::gib(1).as_bytes(), 1073741824u);
  EXPECT_EQ(Size::gib(3).as_bytes(), 3ull << 30);
  EXPECT_EQ(Size::kib(1024), Size::mib(1));
  static_assert(Size::gib(2).as_bytes() == 2ull << 30, "usable in constant expressions");
}

TEST(SizeTest, AsMibRoundsDown) {
  EXPECT_EQ(Size::mib(1536).as_mib(), 1536u);
  EXPECT_EQ(Size::gib(2).as_mib(), 2048u);
  EXPECT_EQ(Size::bytes((1u << 20) - 1).as_mib(), 0u);
  EXPECT_EQ(Size::bytes((3u << 20) + 5).as_mib(), 3u);
}

TEST(SizeTest, ParsesNumbersWithUnits) {
  const std::vector<std::pair<std::string, std::uint64_t>> cases{
      {"512MiB", 512ull << 20},
      {"2G", 2ull << 30},
      {"1.5GiB", 1536ull << 20},
      {"4096", 4096},
      {"1k", 1024},
      {"1K", 1024},
      {"1KB", 1024},
      {"1kib", 1024},
      {"1 MiB", 1ull << 20},
      {"3 g", 3ull << 30},
      {"2mb", 2ull << 20},
      {"1T", 1ull << 40},
      {"2TiB", 2ull << 40},
      {"7B", 7},
      {"7b", 7},
      {"7 B", 7},
      {"0", 0},
      {"0.5KiB", 512},
      {"0.25k", 256},
      {"1.125KiB", 1152},
      {"1.50GiB", 1536ull << 20},
      {"1.000000000G", 1ull << 30},
      {"0.001953125K", 2},
      {"18446744073709551615", UINT64_MAX},
      {"16777215TiB", UINT64_MAX - ((1ull << 40) - 1)},
  };
  for (const auto& [text, bytes] : cases) {
    const auto size = Size::parse(text);
    ASSERT_TRUE(vmm_test::IsOk(size)) << "input: \"" << text << "\"";
    EXPECT_EQ(size->as_bytes(), bytes) << "input: \"" << text << "\"";
  }
}

// Each rejected input, and a fragment of the reason the message must give.
TEST(SizeTest, RejectsMalformedText) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"", "no number"},
      {"-1", "no number"},
      {"+1", "no number"},
      {" 1MiB", "no number"},
      {"MiB", "no number"},
      {"1.", "a decimal point needs digits after it"},
      {"1.MiB", "a decimal point needs digits after it"},
      {".5", "no number"},
      {".5GiB", "no number"},
      {"1.5.5", "unknown unit \".5\""},
      {"12XB", "unknown unit \"XB\""},
      {"12 parsecs", "unknown unit \"parsecs\""},
      {"1  MiB", "unknown unit \" MiB\""},
      {"1MiB ", "unknown unit \"MiB \""},
      {"1Mi", "unknown unit \"Mi\""},
      {"1PiB", "unknown unit \"PiB\""},
      {"1e3", "unknown unit \"e3\""},
      {"1,5G", "unknown unit \",5G\""},
      {"0x10", "unknown unit \"x10\""},
      {"1.0000000001G", "more than 9 decimal places"},
  };
  for (const auto& [text, why] : cases) {
    const auto size = Size::parse(text);
    ASSERT_FALSE(size) << "input \"" << text << "\" parsed as " << size->as_bytes();
    EXPECT_EQ(size.error().code(), vmm::Errc::invalid_config);
    EXPECT_THAT(size.error().message(), HasSubstr("size \"" + text + "\": ")) << text;
    EXPECT_THAT(size.error().message(), HasSubstr(why)) << text;
  }
}

// "A number followed by an optional unit": a separating space with no unit after it is neither.
TEST(SizeTest, RejectsATrailingSpaceWithoutAUnit) {
  const auto size = Size::parse("1 ");
  EXPECT_FALSE(size) << "\"1 \" parsed as " << size->as_bytes() << " bytes";
}

TEST(SizeTest, RejectsDecimalsThatAreNotWholeBytes) {
  for (const std::string text : {"1.5", "1.5B", "0.1B", "1.3KiB", "0.0001K", "1.000000001G"}) {
    const auto size = Size::parse(text);
    ASSERT_FALSE(size) << "input \"" << text << "\" parsed as " << size->as_bytes();
    EXPECT_EQ(size.error().code(), vmm::Errc::invalid_config);
    EXPECT_THAT(size.error().message(), HasSubstr("\"" + text + "\""));
    EXPECT_THAT(size.error().message(), HasSubstr("not a whole number of bytes"));
  }
}

TEST(SizeTest, RejectsOverflow) {
  for (const std::string text :
       {"99999999999999999999", "18446744073709551616", "17179869184GiB", "16777216TiB",
        "16777216T", "17592186044416M"}) {
    const auto size = Size::parse(text);
    ASSERT_FALSE(size) << "input \"" << text << "\" parsed as " << size->as_bytes();
    EXPECT_EQ(size.error().code(), vmm::Errc::invalid_config);
    EXPECT_THAT(size.error().message(), HasSubstr("\"" + text + "\""));
    EXPECT_THAT(size.error().message(), HasSubstr("too large"));
  }
}

TEST(SizeTest, ToStringUsesTheLargestExactUnit) {
  EXPECT_EQ(Size().to_string(), "0B");
  EXPECT_EQ(Size::bytes(100).to_string(), "100B");
  EXPECT_EQ(Size::bytes(1536).to_string(), "1536B");
  EXPECT_EQ(Size::kib(1).to_string(), "1KiB");
  EXPECT_EQ(Size::kib(1025).to_string(), "1025KiB");
  EXPECT_EQ(Size::mib(1).to_string(), "1MiB");
  EXPECT_EQ(Size::mib(1536).to_string(), "1536MiB");
  EXPECT_EQ(Size::gib(1).to_string(), "1GiB");
  EXPECT_EQ(Size::gib(1024).to_string(), "1TiB");
  EXPECT_EQ(Size::gib(1536).to_string(), "1536GiB");
  EXPECT_EQ(Size::bytes((1ull << 30) + 1).to_string(), "1073741825B");
}

TEST(SizeTest, ToStringParsesBack) {
  for (const Size size : {Size(), Size::bytes(1), Size::bytes(1536), Size::kib(3), Size::mib(1536),
                          Size::gib(1), Size::gib(4096), Size::bytes(UINT64_MAX)}) {
    const auto parsed = Size::parse(size.to_string());
    ASSERT_TRUE(vmm_test::IsOk(parsed)) << size.to_string();
    EXPECT_EQ(*parsed, size) << size.to_string();
  }
}

TEST(SizeTest, Ordering) {
  EXPECT_LT(Size::mib(1), Size::gib(1));
  EXPECT_GT(Size::gib(1), Size::mib(1023));
  EXPECT_LE(Size::kib(1024), Size::mib(1));
  EXPECT_GE(Size::kib(1024), Size::mib(1));
  EXPECT_NE(Size::bytes(1), Size::bytes(2));
  EXPECT_TRUE((Size::bytes(1) <=> Size::bytes(2)) < 0);
  EXPECT_TRUE((Size::mib(1) <=> Size::kib(1024)) == 0);
}

}  // namespace
