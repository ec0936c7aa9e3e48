// vmm::Result's std::expected members: and_then, transform, or_else, transform_error, value_or
// and error_or, on values and errors, for each value category, and for Result<void>.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>

#include "vmm/error.hpp"

namespace {

using vmm::Errc;
using vmm::Error;
using vmm::Result;

Result<int> ok(int v) { return v; }
Result<int> bad(std::string why = "no") { return vmm::make_error(Errc::io, std::move(why)); }
Result<void> ok_void() { return {}; }
Result<void> bad_void() { return vmm::make_error(Errc::timeout, "late"); }

TEST(ResultMonadicTest, AndThenChainsValuesAndPassesErrorsThrough) {
  int calls = 0;
  const auto half = [&calls](int v) -> Result<std::string> {
    ++calls;
    if (v % 2 != 0) return vmm::make_error(Errc::invalid_config, "odd");
    return std::to_string(v / 2);
  };
  EXPECT_EQ(ok(8).and_then(half).value(), "4");
  EXPECT_EQ(ok(7).and_then(half).error(), Error(Errc::invalid_config, "odd"));
  EXPECT_EQ(bad("first").and_then(half).error(), Error(Errc::io, "first"));
  EXPECT_EQ(calls, 2);  // not called for the error
  const Result<int> lvalue = ok(2);
  EXPECT_EQ(lvalue.and_then(half).value(), "1");
  EXPECT_EQ(ok(1).and_then([](int) { return ok_void(); }).has_value(), true);
}

TEST(ResultMonadicTest, TransformMapsTheValueIncludingToVoid) {
  EXPECT_EQ(ok(3).transform([](int v) { return v * 10; }).value(), 30);
  EXPECT_EQ(bad().transform([](int v) { return v * 10; }).error().code(), Errc::io);
  int seen = 0;
  Result<void> done = ok(5).transform([&seen](int v) { seen = v; });
  EXPECT_TRUE(done.has_value());
  EXPECT_EQ(seen, 5);
  Result<void> failed = bad().transform([&seen](int) { seen = -1; });
  EXPECT_FALSE(failed.has_value());
  EXPECT_EQ(seen, 5);
  // A function returning an Error makes a Result<Error> holding that value, not a failure.
  const auto as_value = ok(1).transform([](int) { return Error(Errc::io, "value"); });
  ASSERT_TRUE(as_value.has_value());
  EXPECT_EQ(as_value->message(), "value");
}

TEST(ResultMonadicTest, OrElseRecoversOnlyFromErrors) {
  const auto recover = [](const Error& e) -> Result<int> {
    if (e.code() == Errc::io) return 42;
    return vmm::make_error(Errc::backend, "still: " + e.message());
  };
  EXPECT_EQ(bad().or_else(recover).value(), 42);
  EXPECT_EQ(ok(1).or_else(recover).value(), 1);
  const Result<int> timeout = vmm::make_error(Errc::timeout, "t");
  EXPECT_EQ(timeout.or_else(recover).error(), Error(Errc::backend, "still: t"));
}

TEST(ResultMonadicTest, TransformErrorRewritesTheError) {
  const auto prefix = [](const Error& e) { return Error(e.code(), "saving: " + e.message()); };
  EXPECT_EQ(bad("disk full").transform_error(prefix).error(), Error(Errc::io, "saving: disk full"));
  EXPECT_EQ(ok(9).transform_error(prefix).value(), 9);
  EXPECT_EQ(bad_void().transform_error(prefix).error(), Error(Errc::timeout, "saving: late"));
  EXPECT_TRUE(ok_void().transform_error(prefix).has_value());
}

TEST(ResultMonadicTest, ValueOrAndErrorOr) {
  EXPECT_EQ(ok(1).value_or(5), 1);
  EXPECT_EQ(bad().value_or(5), 5);
  const Error fallback(Errc::cancelled, "none");
  EXPECT_EQ(ok(1).error_or(fallback), fallback);
  EXPECT_EQ(bad("x").error_or(fallback), Error(Errc::io, "x"));
  EXPECT_EQ(ok_void().error_or(fallback), fallback);
  EXPECT_EQ(bad_void().error_or(fallback), Error(Errc::timeout, "late"));
  const Result<int> lvalue = bad("y");
  EXPECT_EQ(lvalue.error_or(fallback), Error(Errc::io, "y"));
}

TEST(ResultMonadicTest, RvalueResultsMoveTheirValueIntoTheFunction) {
  Result<std::unique_ptr<int>> owned = std::make_unique<int>(7);
  const auto got = std::move(owned).and_then([](std::unique_ptr<int> p) -> Result<int> { return *p; });
  EXPECT_EQ(got.value(), 7);
  Result<std::unique_ptr<int>> again = std::make_unique<int>(8);
  const auto doubled = std::move(again).transform([](std::unique_ptr<int>&& p) { return *p * 2; });
  EXPECT_EQ(doubled.value(), 16);
  Result<std::unique_ptr<int>> kept = std::make_unique<int>(9);
  auto moved = std::move(kept).value_or(nullptr);
  ASSERT_NE(moved, nullptr);
  EXPECT_EQ(*moved, 9);
  // An lvalue passes a reference: the function can change the value in place.
  Result<int> counter = 1;
  (void)counter.transform([](int& v) { return ++v; });
  EXPECT_EQ(counter.value(), 2);
}

TEST(ResultMonadicTest, VoidResultsChainWithoutAValue) {
  int calls = 0;
  EXPECT_EQ(ok_void().and_then([&] { ++calls; return ok(3); }).value(), 3);
  EXPECT_EQ(bad_void().and_then([&] { ++calls; return ok(3); }).error().code(), Errc::timeout);
  EXPECT_EQ(ok_void().transform([&] { ++calls; return 4; }).value(), 4);
  EXPECT_FALSE(bad_void().transform([&] { ++calls; return 4; }).has_value());
  EXPECT_EQ(calls, 2);
  EXPECT_TRUE(bad_void().or_else([](const Error&) { return ok_void(); }).has_value());
  EXPECT_EQ(ok_void().or_else([](const Error&) { return bad_void(); }).has_value(), true);
  EXPECT_EQ(bad_void().or_else([](Error e) -> Result<void> { return e; }).error().code(),
            Errc::timeout);
}

}  // namespace
