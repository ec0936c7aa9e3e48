// Errc names, Error, Result<T> / Result<void>, and the fmt formatters of vmm/format.hpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "vmm/format.hpp"
#include "vmm/vmm.hpp"

namespace {

using vmm::Errc;
using vmm::Error;
using vmm::Result;

TEST(ErrcTest, EveryCodeHasItsName) {
  const std::vector<std::pair<Errc, std::string_view>> expected{
      {Errc::invalid_config, "invalid_config"}, {Errc::invalid_state, "invalid_state"},
      {Errc::unsupported, "unsupported"},       {Errc::not_found, "not_found"},
      {Errc::io, "io"},                         {Errc::backend, "backend"},
      {Errc::timeout, "timeout"},               {Errc::cancelled, "cancelled"},
  };
  for (const auto& [code, name] : expected) EXPECT_EQ(vmm::to_string(code), name);
}

TEST(ErrcTest, OutOfRangeValueIsUnknown) {
  EXPECT_EQ(vmm::to_string(static_cast<Errc>(99)), "unknown");
}

TEST(ErrorTest, KeepsCodeAndMessage) {
  const Error error(Errc::not_found, "qemu-system-x86_64 is not on PATH");
  EXPECT_EQ(error.code(), Errc::not_found);
  EXPECT_EQ(error.message(), "qemu-system-x86_64 is not on PATH");
}

TEST(ErrorTest, ToStringIsCodeColonMessage) {
  EXPECT_EQ(Error(Errc::invalid_config, "cpus: 0 is below the minimum of 1").to_string(),
            "invalid_config: cpus: 0 is below the minimum of 1");
  EXPECT_EQ(Error(Errc::timeout, "").to_string(), "timeout: ");
}

TEST(ErrorTest, EqualityComparesCodeAndMessage) {
  const Error a(Errc::io, "read failed");
  EXPECT_EQ(a, Error(Errc::io, "read failed"));
  EXPECT_NE(a, Error(Errc::backend, "read failed"));
  EXPECT_NE(a, Error(Errc::io, "write failed"));
}

TEST(ErrorTest, MakeErrorWrapsAnError) {
  const auto unexpected = vmm::make_error(Errc::cancelled, "destroyed");
  EXPECT_EQ(unexpected.error(), Error(Errc::cancelled, "destroyed"));
}

TEST(ResultTest, HoldsAValue) {
  Result<int> r = 42;
  EXPECT_TRUE(r.has_value());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(r.value(), 42);
  EXPECT_EQ(*r, 42);
  EXPECT_EQ(r.value_or(7), 42);
  r.value() = 43;
  EXPECT_EQ(*r, 43);
  *r = 44;
  EXPECT_EQ(r.value(), 44);
}

TEST(ResultTest, HoldsAnErrorFromMakeError) {
  Result<int> r = vmm::make_error(Errc::io, "short read");
  EXPECT_FALSE(r.has_value());
  EXPECT_FALSE(static_cast<bool>(r));
  EXPECT_EQ(r.error().code(), Errc::io);
  EXPECT_EQ(r.error().message(), "short read");
  EXPECT_EQ(r.value_or(7), 7);
}

TEST(ResultTest, HoldsAnErrorGivenDirectly) {
  const Result<std::string> r = Error(Errc::unsupported, "no vmnet");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Error(Errc::unsupported, "no vmnet"));
  EXPECT_EQ(r.value_or("fallback"), "fallback");
}

TEST(ResultTest, ArrowAndConstAccess) {
  Result<std::string> r = std::string("hello");
  EXPECT_EQ(r->size(), 5u);
  r->append("!");
  const auto& cr = r;
  EXPECT_EQ(cr->size(), 6u);
  EXPECT_EQ(*cr, "hello!");
  EXPECT_EQ(cr.value(), "hello!");
}

TEST(ResultTest, MovesAValueOut) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(5);
  ASSERT_TRUE(r);
  std::unique_ptr<int> taken = std::move(r).value();
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(*taken, 5);

  Result<std::unique_ptr<int>> r2 = std::make_unique<int>(6);
  std::unique_ptr<int> taken2 = *std::move(r2);
  ASSERT_NE(taken2, nullptr);
  EXPECT_EQ(*taken2, 6);
}

TEST(ResultTest, MovesAnErrorOut) {
  Result<int> r = vmm::make_error(Errc::backend, std::string(100, 'x'));
  Error moved = std::move(r).error();
  EXPECT_EQ(moved.code(), Errc::backend);
  EXPECT_EQ(moved.message(), std::string(100, 'x'));
}

TEST(ResultTest, PropagatesAnErrorIntoAnotherResultType) {
  const auto inner = []() -> Result<int> { return vmm::make_error(Errc::timeout, "no answer"); };
  const auto outer = [&]() -> Result<std::string> {
    auto r = inner();
    if (!r) return std::move(r).error();
    return std::to_string(*r);
  };
  const auto r = outer();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Error(Errc::timeout, "no answer"));
}

TEST(ResultVoidTest, DefaultIsSuccess) {
  const Result<void> r;
  EXPECT_TRUE(r.has_value());
  EXPECT_TRUE(static_cast<bool>(r));
  r.value();  // does not assert
  *r;
}

TEST(ResultVoidTest, HoldsAnError) {
  const Result<void> from_make = vmm::make_error(Errc::invalid_state, "not running");
  EXPECT_FALSE(from_make.has_value());
  EXPECT_FALSE(static_cast<bool>(from_make));
  EXPECT_EQ(from_make.error(), Error(Errc::invalid_state, "not running"));

  const Result<void> from_error = Error(Errc::not_found, "gone");
  EXPECT_FALSE(from_error);
  EXPECT_EQ(from_error.error().code(), Errc::not_found);
}

TEST(ResultVoidTest, MovesAnErrorOut) {
  Result<void> r = vmm::make_error(Errc::io, "disk full");
  Error moved = std::move(r).error();
  EXPECT_EQ(moved, Error(Errc::io, "disk full"));
}

TEST(FormatTest, FormatsErrcAndError) {
  EXPECT_EQ(fmt::format("{}", Errc::invalid_config), "invalid_config");
  EXPECT_EQ(fmt::format("{}", Errc::cancelled), "cancelled");
  const Error error(Errc::invalid_config, "memory: 64MiB is below the minimum of 128MiB");
  EXPECT_EQ(fmt::format("{}", error), "invalid_config: memory: 64MiB is below the minimum of 128MiB");
  EXPECT_EQ(fmt::format("[{}]", error), "[" + error.to_string() + "]");
}

TEST(FormatTest, HonoursStringFormatSpecs) {
  EXPECT_EQ(fmt::format("{:>8}", Errc::io), "      io");
  EXPECT_EQ(fmt::format("{:<9}|", vmm::DiskFormat::raw), "raw      |");
}

TEST(FormatTest, FormatsEveryConfigEnum) {
  EXPECT_EQ(fmt::format("{} {} {}", vmm::DiskFormat::raw, vmm::DiskFormat::asif,
                        vmm::DiskFormat::qcow2),
            "raw asif qcow2");
  EXPECT_EQ(fmt::format("{} {} {}", vmm::CachingMode::automatic, vmm::CachingMode::cached,
                        vmm::CachingMode::uncached),
            "automatic cached uncached");
  EXPECT_EQ(fmt::format("{} {} {}", vmm::SyncMode::full, vmm::SyncMode::fsync, vmm::SyncMode::none),
            "full fsync none");
  EXPECT_EQ(fmt::format("{} {} {}", vmm::BlockBus::virtio, vmm::BlockBus::nvme, vmm::BlockBus::usb),
            "virtio nvme usb");
}

TEST(FormatTest, FormatsSizeAndMacAddress) {
  EXPECT_EQ(fmt::format("{}", vmm::Size::mib(1536)), "1536MiB");
  EXPECT_EQ(fmt::format("{}", vmm::MacAddress({0x52, 0x54, 0x00, 0xAB, 0xCD, 0xEF})),
            "52:54:00:ab:cd:ef");
}

}  // namespace
