// prepare_image without a VM: a test catalog on a local server, a qcow2 disk converted once and
// cloned per run directory (clones independent of each other), and its errors.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "image_server.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace vmm::images {
namespace {

using support::read_file;
using testing::pattern;
using testing::sha256_of;

class PrepareTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto raw = dir_.path() / "source.raw";
    ASSERT_TRUE(disks::create_raw(raw, Size::mib(4)));
    {
      std::fstream f(raw, std::ios::in | std::ios::out | std::ios::binary);
      f.write(disk_data_.data(), static_cast<std::streamsize>(disk_data_.size()));
    }
    const auto qcow2 = dir_.path() / "source.qcow2";
    ASSERT_EQ(std::system(("qemu-img convert -f raw -O qcow2 " + raw.string() + " " + qcow2.string()).c_str()), 0);
    raw_bytes_ = read_file(raw);
    const std::string disk = read_file(qcow2), kernel = pattern(5000, 1), initrd = pattern(7000, 2);
    server_.serve("/g/vmlinuz", kernel);
    server_.serve("/g/initrd.img", initrd);
    server_.serve("/g/disk.qcow2", disk);
    server_.serve("/g/SHA256SUMS", sha256_of(kernel) + "  vmlinuz\n" + sha256_of(initrd) +
                                       "  initrd.img\n" + sha256_of(disk) + "  disk.qcow2\n");
    const auto asset = [&](const char* file) {
      return R"({"url": ")" + server_.url(std::string("/g/") + file) + R"(", "checksums": {"url": ")" +
             server_.url("/g/SHA256SUMS") + R"(", "kind": "sha256sums"}})";
    };
    catalog_ = dir_.file("catalog.json",
        R"({"schema_version": 1, "images": [{"name": "t", "arch": "aarch64", "boot": "linux",
            "command_line": "console=hvc0", "kernel": )" + asset("vmlinuz") + R"(, "initrd": )" +
        asset("initrd.img") + R"(, "disk": )" + asset("disk.qcow2").insert(1, R"("format": "qcow2", )") + "}]}");
  }
  PrepareOptions options(const std::filesystem::path& run) const {
    PrepareOptions o;
    o.cache_directory = dir_.path() / "cache";
    o.catalog_files = {catalog_};
    o.run_directory = run;
    return o;
  }
  support::TempDir dir_;
  support::HttpServer server_;
  std::filesystem::path catalog_;
  std::string disk_data_ = pattern(70000, 9);
  std::string raw_bytes_;
};

TEST_F(PrepareTest, ConvertsOnceAndClonesPerRun) {
  const auto run1 = dir_.dir("run1"), run2 = dir_.dir("run2");
  auto first = prepare_image("t:arm64", options(run1));
  ASSERT_TRUE(first) << first.error().to_string();
  ASSERT_TRUE(first->kernel && first->initrd && first->disk && first->clone_method);
  EXPECT_EQ(read_file(*first->kernel), pattern(5000, 1));
  EXPECT_EQ(first->disk->parent_path(), run1);
  EXPECT_EQ(read_file(*first->disk), raw_bytes_);  // qcow2 -> raw, byte for byte
  EXPECT_EQ(first->entry.command_line, "console=hvc0");

  auto second = prepare_image("t:aarch64", options(run2));
  ASSERT_TRUE(second) << second.error().to_string();
  EXPECT_EQ(server_.requests("/g/disk.qcow2"), 1);
  EXPECT_EQ(*second->kernel, *first->kernel);  // the same cached file
  // Each run has its own disk: a write to one leaves the other as it was.
  {
    std::fstream f(*first->disk, std::ios::in | std::ios::out | std::ios::binary);
    f.write("changed", 7);
  }
  EXPECT_EQ(read_file(*second->disk), raw_bytes_);
  auto third = prepare_image("t:aarch64", options(dir_.dir("run3")));
  ASSERT_TRUE(third);
  EXPECT_EQ(read_file(*third->disk), raw_bytes_);  // the cached raw is untouched too
}

TEST_F(PrepareTest, Errors) {
  auto unknown = prepare_image("t:x86_64", options(dir_.dir("run")));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), Errc::not_found);
  EXPECT_NE(unknown.error().message().find("t:aarch64"), std::string::npos);
  auto no_run_dir = prepare_image("t:aarch64", options({}));
  ASSERT_FALSE(no_run_dir);
  EXPECT_EQ(no_run_dir.error().code(), Errc::invalid_config);
  EXPECT_EQ(server_.requests("/g/SHA256SUMS"), 0);
}

}  // namespace
}  // namespace vmm::images
