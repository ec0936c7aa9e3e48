// The /proc parsers behind VirtualMachine::metrics() on QEMU, over captured text, and the run
// log's bound and rotation.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "qemu/proc_stats.hpp"
#include "qemu/run_log.hpp"
#include "test_support.hpp"

namespace vmm::qemu {
namespace {

TEST(ProcStats, CpuTicksFromStatWithSpacesInTheName) {
  const std::string stat =
      "4242 (qemu system x86) S 1 4242 4242 0 -1 4194624 8035 0 0 0 1234 567 0 0 20 0 3 0 "
      "99 1 2 3\n";
  const auto ticks = parse_proc_stat_cpu(stat);
  ASSERT_TRUE(ticks);
  EXPECT_EQ(ticks->user, 1234U);
  EXPECT_EQ(ticks->system, 567U);
  EXPECT_FALSE(parse_proc_stat_cpu("4242 (x) S 1 2"));
  EXPECT_FALSE(parse_proc_stat_cpu("no parenthesis"));
}

TEST(ProcStats, OurOwnStatParses) {
  const auto stat = read_proc_file("/proc/self/stat");
  ASSERT_TRUE(stat);
  EXPECT_TRUE(parse_proc_stat_cpu(*stat));
  const auto status = read_proc_file("/proc/self/status");
  ASSERT_TRUE(status);
  const auto rss = parse_kib_field(*status, "VmRSS");
  ASSERT_TRUE(rss);
  EXPECT_GT(*rss, 0U);
}

TEST(ProcStats, KibFields) {
  const std::string status = "Name:\tqemu\nVmRSS:\t  225280 kB\nVmRSSX:\t1 kB\nPss:  10 kB\n";
  EXPECT_EQ(parse_kib_field(status, "VmRSS"), 225280U * 1024U);
  EXPECT_EQ(parse_kib_field(status, "Pss"), 10U * 1024U);
  EXPECT_FALSE(parse_kib_field(status, "VmHWM"));
  EXPECT_FALSE(parse_kib_field("VmRSS:\tlots kB\n", "VmRSS"));
  EXPECT_FALSE(parse_kib_field("VmRSS:\t12 pages\n", "VmRSS"));
}

TEST(ProcStats, NetDevCountersOfOneInterface) {
  const std::string net_dev =
      "Inter-|   Receive                                                |  Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
      "drop fifo colls carrier compressed\n"
      "    lo:       0       0    0    0    0     0          0         0        0       0    0 "
      "   0    0     0       0          0\n"
      "vmmtap0:    1500      12    0    0    0     0          0         0     9000      40    0 "
      "   0    0     0       0          0\n";
  const auto tap = parse_net_dev(net_dev, "vmmtap0");
  ASSERT_TRUE(tap);
  EXPECT_EQ(tap->rx_bytes, 1500U);
  EXPECT_EQ(tap->rx_packets, 12U);
  EXPECT_EQ(tap->tx_bytes, 9000U);
  EXPECT_EQ(tap->tx_packets, 40U);
  EXPECT_FALSE(parse_net_dev(net_dev, "vmmtap"));
  EXPECT_FALSE(parse_net_dev(net_dev, "eth0"));
}

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(RunLog, BoundedWithATruncationLine) {
  testing::ScratchDir dir;
  auto log = RunLog::create(dir.path(), 1, 10);
  ASSERT_TRUE(log) << log.error().to_string();
  EXPECT_EQ((*log)->path(), dir.path() / "qemu-run-1.log");
  (*log)->write("12345");
  (*log)->write("67890abc");
  (*log)->write("more");
  EXPECT_EQ(read_all((*log)->path()), "1234567890\n[vmm: log truncated]\n");
}

TEST(RunLog, KeepsTheLastRuns) {
  testing::ScratchDir dir;
  for (std::uint64_t run = 1; run <= RunLog::keep_runs + 2; ++run) {
    ASSERT_TRUE(RunLog::create(dir.path(), run));
  }
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "qemu-run-1.log"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "qemu-run-2.log"));
  for (std::uint64_t run = 3; run <= RunLog::keep_runs + 2; ++run) {
    EXPECT_TRUE(std::filesystem::exists(dir.path() / fmt::format("qemu-run-{}.log", run)));
  }
}

}  // namespace
}  // namespace vmm::qemu
