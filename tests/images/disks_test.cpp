// Disk tools: sparse raw files, growing, qcow2 -> raw through qemu-img, and clones: a reflink
// on a loop-mounted XFS made here (blocks shared, the source unchanged by writes to the clone),
// a sparse copy that keeps holes on tmpfs.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "image_server.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"
#include "vmm/disks.hpp"

namespace vmm::disks {
namespace {

using support::read_file;

std::string read_range(const std::filesystem::path& path, std::uint64_t offset, std::size_t size) {
  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offset));
  std::string data(size, '\0');
  in.read(data.data(), static_cast<std::streamsize>(size));
  return data;
}

void write_at(const std::filesystem::path& path, std::uint64_t offset, std::string_view data) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f) << path;
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
}

struct stat stat_of(const std::filesystem::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st;
}

int run(const std::string& command) { return std::system((command + " >/dev/null 2>&1").c_str()); }

TEST(RawDisk, CreateIsSparseAndGrowKeepsData) {
  support::TempDir dir;
  const auto disk = dir.path() / "disk.raw";
  ASSERT_TRUE(create_raw(disk, Size::mib(64)));
  auto st = stat_of(disk);
  EXPECT_EQ(st.st_size, 64 * 1024 * 1024);
  EXPECT_LT(st.st_blocks, 64);  // nothing allocated
  auto again = create_raw(disk, Size::mib(1));
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message().find("disk.raw"), std::string::npos);

  write_at(disk, 4096, "hello");
  ASSERT_TRUE(grow_raw(disk, Size::mib(128)));
  EXPECT_EQ(stat_of(disk).st_size, 128 * 1024 * 1024);
  EXPECT_EQ(read_range(disk, 4096, 5), "hello");
  ASSERT_TRUE(grow_raw(disk, Size::mib(128)));  // same size: nothing to do
  auto shrink = grow_raw(disk, Size::mib(1));
  ASSERT_FALSE(shrink);
  EXPECT_EQ(shrink.error().code(), Errc::invalid_config);
  EXPECT_NE(shrink.error().message().find("shrink"), std::string::npos);
}

TEST(Qcow2, ConvertsToByteIdenticalRaw) {
  support::TempDir dir;
  const auto original = dir.path() / "original.raw";
  ASSERT_TRUE(create_raw(original, Size::mib(16)));
  write_at(original, 0, images::testing::pattern(100000, 3));
  write_at(original, 9 * 1024 * 1024 + 5, images::testing::pattern(5000, 4));
  const auto qcow2 = dir.path() / "disk.qcow2";
  ASSERT_EQ(run("qemu-img convert -f raw -O qcow2 " + original.string() + " " + qcow2.string()), 0);
  ASSERT_NE(read_file(qcow2), read_file(original));  // really another format
  const auto raw = dir.path() / "converted.raw";
  auto converted = convert_qcow2_to_raw(qcow2, raw);
  ASSERT_TRUE(converted) << converted.error().to_string();
  EXPECT_EQ(read_file(raw), read_file(original));

  auto broken = convert_qcow2_to_raw(original, dir.path() / "x.raw");  // not a qcow2
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message().find("qemu-img convert"), std::string::npos);
}

TEST(Qcow2, MissingQemuImgNamesThePackage) {
  support::TempDir dir;
  const char* path = std::getenv("PATH");
  const std::string saved = path != nullptr ? path : "";
  ::setenv("PATH", dir.path().c_str(), 1);
  auto converted = convert_qcow2_to_raw(dir.path() / "a.qcow2", dir.path() / "a.raw");
  ::setenv("PATH", saved.c_str(), 1);
  ASSERT_FALSE(converted);
  EXPECT_EQ(converted.error().code(), Errc::not_found);
  EXPECT_NE(converted.error().message().find("qemu-utils"), std::string::npos);
}

TEST(Clone, SparseCopyKeepsHolesOnTmpfs) {
  // /dev/shm is tmpfs: no FICLONE there, so the clone is a sparse copy.
  char templ[] = "/dev/shm/vmm-clone-XXXXXX";
  ASSERT_NE(::mkdtemp(templ), nullptr);
  const std::filesystem::path dir(templ);
  const auto source = dir / "source.raw";
  ASSERT_TRUE(create_raw(source, Size::mib(16)));
  write_at(source, 0, images::testing::pattern(8192, 5));
  write_at(source, 10 * 1024 * 1024, images::testing::pattern(8192, 6));
  const auto copy = dir / "copy.raw";
  auto method = clone(source, copy);
  ASSERT_TRUE(method) << method.error().to_string();
  EXPECT_EQ(*method, CloneMethod::sparse_copy);
  EXPECT_EQ(read_file(copy), read_file(source));
  const auto src = stat_of(source), dst = stat_of(copy);
  EXPECT_EQ(dst.st_size, src.st_size);
  EXPECT_LE(dst.st_blocks, src.st_blocks);
  EXPECT_LT(dst.st_blocks, 1024);  // 16 KiB of data, not 16 MiB
  auto exists = clone(source, copy);
  ASSERT_FALSE(exists);
  EXPECT_NE(exists.error().message().find("exists"), std::string::npos);
  std::filesystem::remove_all(dir);
}

// A loop-mounted XFS with reflink, made for the test and removed after it.
class ReflinkFilesystem : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "mounting a loop XFS needs root (CI runs as root)";
    }
    image_ = dir_.path() / "xfs.img";
    mount_ = dir_.path() / "mnt";
    std::filesystem::create_directory(mount_);
    ASSERT_TRUE(create_raw(image_, Size::mib(320)));
    ASSERT_EQ(run("mkfs.xfs -q -m reflink=1 " + image_.string()), 0) << "mkfs.xfs (xfsprogs) failed";
    ASSERT_EQ(run("mount -o loop " + image_.string() + " " + mount_.string()), 0) << "mount -o loop failed";
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) {
      EXPECT_EQ(::umount2(mount_.c_str(), 0), 0);
    }
  }
  support::TempDir dir_;
  std::filesystem::path image_, mount_;
  bool mounted_ = false;
};

TEST_F(ReflinkFilesystem, CloneSharesBlocksAndWritesStayPrivate) {
  const auto source = mount_ / "source.raw";
  const std::string data = images::testing::pattern(4 * 1024 * 1024, 8);
  {
    std::ofstream out(source, std::ios::binary);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
  }
  const auto before = run("sync");
  (void)before;
  const auto clone_path = mount_ / "clone.raw";
  auto method = clone(source, clone_path);
  ASSERT_TRUE(method) << method.error().to_string();
  EXPECT_EQ(*method, CloneMethod::reflink);
  EXPECT_EQ(read_file(clone_path), data);
  write_at(clone_path, 4096, "written into the clone");
  EXPECT_EQ(read_file(source), data);
  EXPECT_EQ(read_file(clone_path).substr(4096, 22), "written into the clone");
}

}  // namespace
}  // namespace vmm::disks
