// The cache against a local HTTP server: a fetch then a hit without a request, a download cut
// half-way and resumed with Range, a digest mismatch that leaves nothing, 404, a manifest
// without the file, two concurrent fetches that download once, cancellation, re-verification
// of a changed file, list and prune.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "image_server.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace vmm::images {
namespace {

using support::read_file;
using testing::asset_for;
using testing::pattern;
using testing::sha256_of;

// Regular files under the cache's files/ other than locks: what a failed fetch must not leave.
std::vector<std::string> cached_files(const std::filesystem::path& cache) {
  std::vector<std::string> files;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(cache, ec);
       it != std::filesystem::recursive_directory_iterator(); ++it) {
    if (it->is_regular_file() && it->path().filename() != ".lock") files.push_back(it->path().string());
  }
  return files;
}

class CacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    body_ = pattern(3 * 1024 * 1024 + 17);
    server_.serve("/img/disk.raw", body_);
    server_.serve("/SHA256SUMS", sha256_of(body_) + "  disk.raw\n" + std::string(64, 'a') + "  other\n");
  }
  support::HttpServer server_;
  support::TempDir dir_;
  std::string body_;
  ImageCache cache_{dir_.path() / "cache"};
};

TEST_F(CacheTest, FetchThenHitWithoutARequest) {
  std::vector<Progress> seen;
  DownloadOptions options;
  options.progress = [&](const Progress& p) { seen.push_back(p); };
  auto first = cache_.fetch(asset_for(server_, "/img/disk.raw"), options);
  ASSERT_TRUE(first) << first.error().to_string();
  EXPECT_EQ(read_file(*first), body_);
  EXPECT_EQ(first->filename(), "disk.raw");
  EXPECT_EQ(server_.requests("/img/disk.raw"), 1);
  EXPECT_EQ(server_.requests("/SHA256SUMS"), 1);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().done, body_.size());
  ASSERT_TRUE(seen.back().total.has_value());
  EXPECT_EQ(*seen.back().total, body_.size());

  auto second = cache_.fetch(asset_for(server_, "/img/disk.raw"));
  ASSERT_TRUE(second) << second.error().to_string();
  EXPECT_EQ(*second, *first);
  EXPECT_EQ(server_.requests("/img/disk.raw"), 1);  // no second download
  EXPECT_EQ(server_.requests("/SHA256SUMS"), 1);    // nor manifest

  auto listed = cache_.list();
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].url, server_.url("/img/disk.raw"));
  EXPECT_EQ((*listed)[0].digest, "sha256:" + sha256_of(body_));
  EXPECT_EQ((*listed)[0].size, body_.size());
}

TEST_F(CacheTest, ResumesAfterTheServerCutsTheConnection) {
  const std::size_t half = body_.size() / 2;
  server_.cut("/img/disk.raw", half);
  auto fetched = cache_.fetch(asset_for(server_, "/img/disk.raw"));
  ASSERT_TRUE(fetched) << fetched.error().to_string();
  EXPECT_EQ(read_file(*fetched), body_);
  const auto ranges = server_.ranges("/img/disk.raw");
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0], "");
  EXPECT_EQ(ranges[1], "bytes=" + std::to_string(half) + "-");  // resumed, not restarted
}

TEST_F(CacheTest, ResumesAPartialLeftByAnEarlierProcess) {
  // No retries: the cut ends the first fetch, whose partial stays for the next one.
  const std::size_t part = 1024 * 1024;
  server_.cut("/img/disk.raw", part);
  DownloadOptions once;
  once.retries = 0;
  auto broken = cache_.fetch(asset_for(server_, "/img/disk.raw"), once);
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message().find(server_.url("/img/disk.raw")), std::string::npos);
  EXPECT_TRUE(cache_.list()->empty());
  auto fetched = cache_.fetch(asset_for(server_, "/img/disk.raw"), once);
  ASSERT_TRUE(fetched) << fetched.error().to_string();
  EXPECT_EQ(read_file(*fetched), body_);
  EXPECT_EQ(server_.ranges("/img/disk.raw").back(), "bytes=" + std::to_string(part) + "-");
}

TEST_F(CacheTest, DigestMismatchCachesNothing) {
  server_.serve("/img/disk.raw", pattern(1000, 7));
  auto fetched = cache_.fetch(asset_for(server_, "/img/disk.raw"));
  ASSERT_FALSE(fetched);
  const auto& message = fetched.error().message();
  EXPECT_NE(message.find("disk.raw"), std::string::npos) << message;
  EXPECT_NE(message.find("expected " + sha256_of(body_)), std::string::npos) << message;
  EXPECT_NE(message.find("got " + sha256_of(pattern(1000, 7))), std::string::npos) << message;
  EXPECT_TRUE(cached_files(cache_.directory()).empty());
  EXPECT_TRUE(cache_.list()->empty());
}

TEST_F(CacheTest, NotFound) {
  auto fetched = cache_.fetch(asset_for(server_, "/img/missing.raw"));
  ASSERT_FALSE(fetched);
  // The manifest has no "missing.raw": found before any download.
  EXPECT_EQ(fetched.error().code(), Errc::not_found);
  EXPECT_EQ(server_.requests("/img/missing.raw"), 0);
  server_.serve("/SHA256SUMS", sha256_of("x") + "  missing.raw\n");
  auto gone = cache_.fetch(asset_for(server_, "/img/missing.raw"));
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code(), Errc::not_found);
  EXPECT_NE(gone.error().message().find("HTTP 404"), std::string::npos) << gone.error().message();
  EXPECT_EQ(server_.requests("/img/missing.raw"), 1);  // a 404 is not retried
  EXPECT_TRUE(cached_files(cache_.directory()).empty());
}

TEST_F(CacheTest, ManifestWithoutTheFile) {
  server_.serve("/img/other.raw", "x");
  auto fetched = cache_.fetch(asset_for(server_, "/img/other.raw"));
  ASSERT_TRUE(fetched.has_value() == false);
  server_.serve("/SHA256SUMS", sha256_of(body_) + "  disk.raw\n");
  fetched = cache_.fetch(asset_for(server_, "/img/other.raw"));
  ASSERT_FALSE(fetched);
  EXPECT_EQ(fetched.error().code(), Errc::not_found);
  EXPECT_NE(fetched.error().message().find("has no entry for \"other.raw\""), std::string::npos);
  EXPECT_EQ(server_.requests("/img/other.raw"), 0);
}

TEST_F(CacheTest, MissingManifestIsAnError) {
  Asset asset = asset_for(server_, "/img/disk.raw");
  asset.manifest_url = server_.url("/nothing/SHA256SUMS");
  auto fetched = cache_.fetch(asset);
  ASSERT_FALSE(fetched);
  EXPECT_NE(fetched.error().message().find("/nothing/SHA256SUMS: HTTP 404"), std::string::npos);
}

TEST_F(CacheTest, TwoConcurrentFetchesDownloadOnce) {
  // Two processes: the lock is a file lock, not a mutex of this process.
  const auto asset = asset_for(server_, "/img/disk.raw");
  std::vector<pid_t> children;
  for (int i = 0; i < 2; ++i) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ImageCache cache(cache_.directory());
      auto fetched = cache.fetch(asset);
      ::_exit(fetched && read_file(*fetched) == body_ ? 0 : 1);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  EXPECT_EQ(server_.requests("/img/disk.raw"), 1);
  EXPECT_EQ(server_.requests("/SHA256SUMS"), 1);
}

TEST_F(CacheTest, TwoThreadsDownloadOnce) {
  const auto asset = asset_for(server_, "/img/disk.raw");
  Result<std::filesystem::path> a = Error(Errc::io, "unset"), b = Error(Errc::io, "unset");
  std::thread t1([&] { a = ImageCache(cache_.directory()).fetch(asset); });
  std::thread t2([&] { b = ImageCache(cache_.directory()).fetch(asset); });
  t1.join();
  t2.join();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(server_.requests("/img/disk.raw"), 1);
}

TEST_F(CacheTest, CancelStopsTheDownload) {
  std::atomic<bool> cancel{false};
  DownloadOptions options;
  options.cancel = &cancel;
  options.progress = [&](const Progress& p) {
    if (p.done > 0) cancel = true;
  };
  auto fetched = cache_.fetch(asset_for(server_, "/img/disk.raw"), options);
  ASSERT_FALSE(fetched);
  EXPECT_EQ(fetched.error().code(), Errc::cancelled);
  EXPECT_TRUE(cache_.list()->empty());
}

TEST_F(CacheTest, ChangedFileIsVerifiedAgain) {
  auto fetched = cache_.fetch(asset_for(server_, "/img/disk.raw"));
  ASSERT_TRUE(fetched);
  // Touched but intact: re-hashed, still a hit.
  ::utimes(fetched->c_str(), nullptr);
  ASSERT_TRUE(cache_.fetch(asset_for(server_, "/img/disk.raw")));
  EXPECT_EQ(server_.requests("/img/disk.raw"), 1);
  // Same size, other bytes: the digest no longer matches, so it is downloaded again.
  {
    std::fstream f(*fetched, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put(static_cast<char>(body_[100] ^ 0x55));
  }
  auto again = cache_.fetch(asset_for(server_, "/img/disk.raw"));
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(read_file(*again), body_);
  EXPECT_EQ(server_.requests("/img/disk.raw"), 2);
}

TEST_F(CacheTest, PruneRemovesUnusedEntries) {
  ASSERT_TRUE(cache_.fetch(asset_for(server_, "/img/disk.raw")));
  auto kept = cache_.prune(std::chrono::hours(24));
  ASSERT_TRUE(kept);
  EXPECT_TRUE(kept->empty());
  EXPECT_EQ(cache_.list()->size(), 1u);
  auto removed = cache_.prune(std::chrono::hours(-1));
  ASSERT_TRUE(removed);
  ASSERT_EQ(removed->size(), 1u);
  EXPECT_FALSE(std::filesystem::exists((*removed)[0]));
  EXPECT_TRUE(cache_.list()->empty());
  ASSERT_TRUE(cache_.fetch(asset_for(server_, "/img/disk.raw")));
  EXPECT_EQ(server_.requests("/img/disk.raw"), 2);
}

TEST_F(CacheTest, FollowsRedirects) {
  server_.redirect("/moved/disk.raw", "/img/disk.raw");
  auto fetched = cache_.fetch(asset_for(server_, "/moved/disk.raw"));
  ASSERT_TRUE(fetched) << fetched.error().to_string();
  EXPECT_EQ(read_file(*fetched), body_);
  EXPECT_EQ(server_.requests("/moved/disk.raw"), 1);
  EXPECT_EQ(server_.requests("/img/disk.raw"), 1);
}

TEST_F(CacheTest, IdleTimeoutEndsAStalledTransferWhichThenResumes) {
  // 1 s without a byte fails the transfer; the retry resumes after what had arrived.
  const std::size_t part = 512 * 1024;
  server_.stall("/img/disk.raw", part, 4);
  DownloadOptions options;
  options.idle_timeout = std::chrono::seconds(1);
  auto fetched = cache_.fetch(asset_for(server_, "/img/disk.raw"), options);
  ASSERT_TRUE(fetched) << fetched.error().to_string();
  EXPECT_EQ(read_file(*fetched), body_);
  const auto ranges = server_.ranges("/img/disk.raw");
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[1], "bytes=" + std::to_string(part) + "-");  // broken off, then resumed
}

TEST(Download, UnreachableServerIsAnError) {
  support::TempDir dir;
  DownloadOptions options;
  options.retries = 0;
  options.connect_timeout = std::chrono::seconds(5);
  // Port 1 on loopback: nothing listens, the connection is refused at once.
  auto got = download("http://127.0.0.1:1/x", dir.path() / "x", options);
  ASSERT_FALSE(got);
  EXPECT_NE(got.error().message().find("http://127.0.0.1:1/x"), std::string::npos);
}

TEST(Download, DefaultCacheDirectoryFollowsXdg) {
  const char* home = std::getenv("HOME");
  const std::string saved_home = home != nullptr ? home : "";
  ::setenv("XDG_CACHE_HOME", "/somewhere/cache", 1);
  EXPECT_EQ(ImageCache::default_directory(), "/somewhere/cache/vmm");
  ::unsetenv("XDG_CACHE_HOME");
  ::setenv("HOME", "/home/someone", 1);
  EXPECT_EQ(ImageCache::default_directory(), "/home/someone/.cache/vmm");
  ::setenv("HOME", saved_home.c_str(), 1);
}

}  // namespace
}  // namespace vmm::images
