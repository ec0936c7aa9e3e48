// The examples' command-line parser (examples/cli_args.hpp): unknown flags, missing values,
// numbers that are not numbers, config files that are directories or broken JSON.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli_args.hpp"
#include "config/test_support.hpp"

namespace {

using testing::HasSubstr;
using testing::Not;
using vmm_examples::FlagSpec;

const FlagSpec spec{{"--cpus", "--kernel"}, {"--nat"}, 1};

vmm::Result<vmm_examples::ParsedArgs> parse(std::vector<const char*> args) {
  args.insert(args.begin(), "prog");
  return vmm_examples::parse_args(spec, static_cast<int>(args.size()), args.data());
}

TEST(CliArgsTest, SplitsFlagsSwitchesAndPositionals) {
  const auto parsed = parse({"--nat", "--cpus", "3", "kernel"});
  ASSERT_TRUE(parsed.has_value());
  EXPECT_FALSE(parsed->help);
  ASSERT_EQ(parsed->flags.size(), 2u);
  EXPECT_EQ(parsed->flags[0], (std::pair<std::string, std::string>{"--nat", ""}));
  EXPECT_EQ(parsed->flags[1], (std::pair<std::string, std::string>{"--cpus", "3"}));
  EXPECT_EQ(parsed->positionals, std::vector<std::string>{"kernel"});
}

TEST(CliArgsTest, HelpIsAlwaysKnown) {
  const auto parsed = parse({"--cpus", "2", "--help"});
  ASSERT_TRUE(parsed.has_value());
  EXPECT_TRUE(parsed->help);
}

TEST(CliArgsTest, UnknownFlagIsNamedAlsoWhenLast) {
  const auto last = parse({"--cpus", "2", "--frobnicate"});
  ASSERT_FALSE(last.has_value());
  EXPECT_EQ(last.error().message(), "unknown flag --frobnicate");
  const auto first = parse({"--frobnicate", "--cpus", "2"});
  ASSERT_FALSE(first.has_value());
  EXPECT_EQ(first.error().message(), "unknown flag --frobnicate");
}

TEST(CliArgsTest, MissingValueAndExtraArgumentsAreErrors) {
  const auto missing = parse({"--kernel"});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().message(), "--kernel needs a value");
  const auto extra = parse({"a", "b"});
  ASSERT_FALSE(extra.has_value());
  EXPECT_EQ(extra.error().message(), "unexpected argument b");
}

TEST(CliArgsTest, NumbersAreCheckedAndNameTheFlag) {
  EXPECT_EQ(vmm_examples::parse_u32("--cpus", "4", 1).value(), 4u);
  EXPECT_EQ(vmm_examples::parse_u32("--cpus", "4294967295").value(), 4294967295u);
  for (const char* bad : {"abc", "", "-1", "+1", " 1", "1x", "4294967296", "99999999999999999999"}) {
    const auto r = vmm_examples::parse_u32("--cpus", bad, 1);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code(), vmm::Errc::invalid_config);
    EXPECT_THAT(r.error().message(), HasSubstr(std::string("--cpus: \"") + bad + "\""));
    EXPECT_THAT(r.error().message(), HasSubstr("is not a whole number from 1 to 4294967295"));
  }
  const auto zero = vmm_examples::parse_u32("--cpus", "0", 1);
  ASSERT_FALSE(zero.has_value());
  const auto over = vmm_examples::parse_number("--stop-after", "61", 0, 60);
  ASSERT_FALSE(over.has_value());
  EXPECT_THAT(over.error().message(), HasSubstr("from 0 to 60"));
}

TEST(CliArgsTest, SizeErrorsNameTheFlag) {
  EXPECT_EQ(vmm_examples::parse_size("--memory", "512MiB").value(), vmm::Size::mib(512));
  const auto bad = vmm_examples::parse_size("--memory", "lots");
  ASSERT_FALSE(bad.has_value());
  EXPECT_THAT(bad.error().message(), testing::StartsWith("--memory: "));
}

TEST(CliArgsTest, ConfigFileThatIsADirectorySaysSo) {
  vmm_test::TempDir temp;
  const auto r = vmm_examples::load_config_file(temp.path());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), temp.path().string() + ": is a directory, not a JSON file");
}

TEST(CliArgsTest, MissingConfigFileIsNotFound) {
  vmm_test::TempDir temp;
  const auto r = vmm_examples::load_config_file(temp.path() / "nope.json");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), vmm::Errc::not_found);
  EXPECT_THAT(r.error().message(), HasSubstr("nope.json"));
}

TEST(CliArgsTest, JsonSyntaxErrorNamesTheFileWithoutTheLibraryTag) {
  vmm_test::TempDir temp;
  const auto file = temp.file("vm.json", R"({"schema_version": 1,)");
  const auto r = vmm_examples::load_config_file(file);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), vmm::Errc::invalid_config);
  EXPECT_THAT(r.error().message(), testing::StartsWith(file.string() + ": "));
  EXPECT_THAT(r.error().message(), HasSubstr("malformed"));
  EXPECT_THAT(r.error().message(), Not(HasSubstr("[json.exception")));
}

TEST(CliArgsTest, JsonTagIsRemovedOnlyWhereItIs) {
  EXPECT_EQ(vmm_examples::without_json_tag("x: [json.exception.parse_error.101] parse error"),
            "x: parse error");
  EXPECT_EQ(vmm_examples::without_json_tag("no tag [here"), "no tag [here");
}

TEST(CliArgsTest, BundleParentMustExist) {
  vmm_test::TempDir temp;
  EXPECT_TRUE(vmm_examples::check_bundle_parent(temp.path() / "b").has_value());
  const auto r = vmm_examples::check_bundle_parent(temp.path() / "no" / "b");
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message(), HasSubstr((temp.path() / "no").string() + " does not exist"));
}

}  // namespace
