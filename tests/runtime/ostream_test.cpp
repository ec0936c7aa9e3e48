// vmm/ostream.hpp: operator<< prints what to_string() and the fmt formatters print.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "vmm/format.hpp"
#include "vmm/ostream.hpp"

namespace {

template <typename T>
std::string streamed(const T& value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

TEST(OstreamTest, ErrorPrintsCodeAndMessage) {
  const vmm::Error error(vmm::Errc::invalid_config, "cpus: 0 is below the minimum of 1");
  EXPECT_EQ(streamed(error), "invalid_config: cpus: 0 is below the minimum of 1");
  EXPECT_EQ(streamed(error), fmt::format("{}", error));
}

TEST(OstreamTest, EnumsPrintTheLibrarysNames) {
  EXPECT_EQ(streamed(vmm::Errc::timeout), "timeout");
  EXPECT_EQ(streamed(vmm::VmState::running), "running");
  EXPECT_EQ(streamed(vmm::Backend::qemu), fmt::format("{}", vmm::Backend::qemu));
  EXPECT_EQ(streamed(vmm::Acceleration::tcg), fmt::format("{}", vmm::Acceleration::tcg));
  EXPECT_EQ(streamed(vmm::DiskFormat::qcow2), "qcow2");
  EXPECT_EQ(streamed(vmm::CachingMode::uncached), fmt::format("{}", vmm::CachingMode::uncached));
  EXPECT_EQ(streamed(vmm::SyncMode::fsync), fmt::format("{}", vmm::SyncMode::fsync));
  EXPECT_EQ(streamed(vmm::BlockBus::nvme), fmt::format("{}", vmm::BlockBus::nvme));
  // Every enumerator has its own name (no two print the same).
  EXPECT_NE(streamed(vmm::VmState::stopped), streamed(vmm::VmState::running));
}

TEST(OstreamTest, ValuesPrintLikeToString) {
  EXPECT_EQ(streamed(vmm::Size::mib(512)), vmm::Size::mib(512).to_string());
  const auto mac = vmm::MacAddress::parse("02:00:00:00:00:01");
  ASSERT_TRUE(mac.has_value());
  EXPECT_EQ(streamed(*mac), "02:00:00:00:00:01");
}

TEST(OstreamTest, ChainsWithOtherOutput) {
  std::ostringstream out;
  out << "state " << vmm::VmState::paused << ", error " << vmm::Errc::io << '.';
  EXPECT_EQ(out.str(), "state paused, error io.");
}

}  // namespace
