// vmm-run --image end to end: a test catalog points at a local server holding the test guest's
// kernel and initrd and a qcow2 disk, with their SHA256SUMS. vmm-run downloads, verifies,
// caches, converts the disk to raw, clones it, attaches a cloud-init seed from --user-data and
// boots: the guest sees the disk and mounts the seed ISO and prints its user-data. A second
// run finds everything in the cache (no request reaches the server).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>

#include "guest_fixture.hpp"
#include "images/digest.hpp"
#include "support/http_server.hpp"
#include "vmm/disks.hpp"

#ifndef VMM_RUN_PATH
#error "tests/CMakeLists.txt defines VMM_RUN_PATH for the integration tests"
#endif

namespace vmm::testing {
namespace {

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string sha256_of(std::string_view data) {
  images::detail::Hasher hasher(images::DigestAlgorithm::sha256);
  hasher.update(data.data(), data.size());
  return hasher.finish_hex();
}

// Runs a command, returns its exit status and its stdout+stderr.
std::pair<int, std::string> run(const std::string& command) {
  std::string output;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

TEST(ImageBoot, VmmRunBootsADownloadedImageWithASeed) {
  const auto assets = find_guest_assets();
  VMM_REQUIRE_GUEST(assets);
  support::TempDir dir;
  support::HttpServer server;

  // A qcow2 disk of 8 MiB (16384 sectors), made from raw by qemu-img.
  const auto raw = dir.path() / "disk.raw";
  ASSERT_TRUE(disks::create_raw(raw, Size::mib(8)));
  const auto qcow2 = dir.path() / "disk.qcow2";
  ASSERT_EQ(std::system(("qemu-img convert -f raw -O qcow2 " + raw.string() + " " + qcow2.string()).c_str()), 0);
  const std::string kernel = read(assets.kernel), initrd = read(assets.initrd), disk = read(qcow2);
  server.serve("/guest/vmlinuz", kernel);
  server.serve("/guest/initrd.img", initrd);
  server.serve("/guest/disk.qcow2", disk);
  server.serve("/guest/SHA256SUMS", sha256_of(kernel) + "  vmlinuz\n" + sha256_of(initrd) +
                                        "  initrd.img\n" + sha256_of(disk) + "  disk.qcow2\n");
  const auto asset = [&](const char* file) {
    return R"({"url": ")" + server.url(std::string("/guest/") + file) + R"(", "checksums": {"url": ")" +
           server.url("/guest/SHA256SUMS") + R"(", "kind": "sha256sums"}})";
  };
  const auto catalog = dir.file("catalog.json",
      R"({"schema_version": 1, "images": [{"name": "vmm-test-guest", "arch": "x86_64", "boot": "linux",
          "description": "the vmm test guest", "command_line": "console=hvc0 panic=-1 vmm.cidata=1",
          "kernel": )" + asset("vmlinuz") + R"(, "initrd": )" + asset("initrd.img") +
      R"(, "disk": )" + asset("disk.qcow2").insert(1, R"("format": "qcow2", )") + "}]}");
  const auto user_data = dir.file("user-data", "#cloud-config\nvmm-test: hello-from-user-data\n");

  const std::string command = std::string(VMM_RUN_PATH) + " --image vmm-test-guest:x86_64" +
                              " --image-catalog " + catalog.string() + " --image-cache " +
                              (dir.path() / "cache").string() + " --user-data " + user_data.string() +
                              " --memory 256 --accel tcg --stop-after 150" +
                              " --image-cmdline 'console=hvc0 panic=-1 vmm.cidata=1 vmm.poweroff_after=2'";
  const auto [status, output] = run(command);
  SCOPED_TRACE(output);
  EXPECT_EQ(status, 0);
  EXPECT_NE(output.find("VMM-DISK vda 16384"), std::string::npos);  // the converted, cloned disk
  EXPECT_NE(output.find("VMM-CIDATA #cloud-config"), std::string::npos);
  EXPECT_NE(output.find("VMM-CIDATA vmm-test: hello-from-user-data"), std::string::npos);
  EXPECT_NE(output.find("VMM-GUEST-READY"), std::string::npos);
  EXPECT_NE(output.find("vmm-run: image: vmlinuz 100%"), std::string::npos);  // progress lines
  EXPECT_NE(output.find("disk cloned by "), std::string::npos);
  EXPECT_EQ(server.requests("/guest/vmlinuz"), 1);
  EXPECT_EQ(server.requests("/guest/disk.qcow2"), 1);

  // Again, only as far as the config: everything comes from the cache.
  const auto [again_status, again] = run(std::string(VMM_RUN_PATH) + " --image vmm-test-guest:x86_64" +
                                         " --image-catalog " + catalog.string() + " --image-cache " +
                                         (dir.path() / "cache").string() + " --dry-run");
  EXPECT_EQ(again_status, 0) << again;
  EXPECT_NE(again.find("vmm.cidata=1"), std::string::npos) << again;  // the catalog's command line
  EXPECT_EQ(server.requests("/guest/vmlinuz"), 1);
  EXPECT_EQ(server.requests("/guest/initrd.img"), 1);
  EXPECT_EQ(server.requests("/guest/disk.qcow2"), 1);
  EXPECT_EQ(server.requests("/guest/SHA256SUMS"), 3);  // once per asset, the first time only
}

}  // namespace
}  // namespace vmm::testing
