// Downloads with libcurl: HTTPS and redirects, connect and idle timeouts, resume with Range
// after a broken transfer, progress (done, total, rate) and cancellation.
#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <mutex>

#include "runtime/posix.hpp"
#include "vmm/images.hpp"

namespace vmm::images {
namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Attempt {
  Attempt(const std::string& u, const DownloadOptions& o) : url(u), options(o) {}
  const std::string& url;
  const DownloadOptions& options;
  std::uint64_t base = 0;  // bytes already there when this attempt started (resume offset)
  // Called with the body's bytes; false stops the transfer (a write error).
  std::function<bool(const char*, std::size_t)> write;
  // The server ignored the Range: start the file over.
  std::function<bool()> restart;
  CURL* easy = nullptr;
  bool first_write = true;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  // The idle timeout, kept here: curl's low-speed limit averages over seconds, so a transfer
  // that stops after a fast start would run on for a long time.
  curl_off_t last_now = -1;
  std::chrono::steady_clock::time_point last_byte = started;
  bool idle = false;
};

std::size_t on_write(char* data, std::size_t size, std::size_t count, void* user) {
  auto* attempt = static_cast<Attempt*>(user);
  if (attempt->first_write) {
    attempt->first_write = false;
    long status = 0;
    curl_easy_getinfo(attempt->easy, CURLINFO_RESPONSE_CODE, &status);
    if (attempt->base > 0 && status == 200) {
      if (!attempt->restart()) return 0;
      attempt->base = 0;
    }
  }
  return attempt->write(data, size * count) ? size * count : 0;
}

int on_progress(void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
  auto* attempt = static_cast<Attempt*>(user);
  if (attempt->options.cancel != nullptr && attempt->options.cancel->load()) return 1;
  const auto clock = std::chrono::steady_clock::now();
  if (now != attempt->last_now) {
    attempt->last_now = now;
    attempt->last_byte = clock;
  } else if (clock - attempt->last_byte > attempt->options.idle_timeout) {
    attempt->idle = true;
    return 1;
  }
  if (attempt->options.progress) {
    Progress progress;
    progress.url = attempt->url;
    progress.done = attempt->base + static_cast<std::uint64_t>(now);
    if (total > 0) progress.total = attempt->base + static_cast<std::uint64_t>(total);
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - attempt->started;
    if (elapsed.count() > 0) progress.bytes_per_second = static_cast<double>(now) / elapsed.count();
    attempt->options.progress(progress);
  }
  return 0;
}

struct Outcome {
  Result<void> result;
  bool retry = false;  // a transient failure: another attempt may resume
};

Outcome perform(Attempt& attempt) {
  global_init();
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> easy(curl_easy_init(), curl_easy_cleanup);
  if (!easy) return {Error(Errc::io, "GET " + attempt.url + ": curl_easy_init failed"), false};
  attempt.easy = easy.get();
  char reason[CURL_ERROR_SIZE] = {};
  CURL* e = easy.get();
  const auto ms = [](std::chrono::milliseconds d) { return static_cast<long>(d.count()); };
  curl_easy_setopt(e, CURLOPT_URL, attempt.url.c_str());
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, reason);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#endif
  curl_easy_setopt(e, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ms(attempt.options.connect_timeout));
  curl_easy_setopt(e, CURLOPT_USERAGENT, "vmm-images/1");
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &attempt);
  curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(e, CURLOPT_XFERINFODATA, &attempt);
  if (attempt.base > 0) {
    curl_easy_setopt(e, CURLOPT_RESUME_FROM_LARGE, static_cast<curl_off_t>(attempt.base));
  }
  const CURLcode code = curl_easy_perform(e);
  if (code == CURLE_OK) return {Result<void>(), false};
  const std::string what = "GET " + attempt.url;
  if (code == CURLE_ABORTED_BY_CALLBACK && attempt.idle) {
    return {Error(Errc::timeout, what + ": no data for " +
                                     std::to_string(attempt.options.idle_timeout.count()) + " ms"),
            true};
  }
  if (code == CURLE_ABORTED_BY_CALLBACK) return {Error(Errc::cancelled, what + ": cancelled"), false};
  if (code == CURLE_HTTP_RETURNED_ERROR) {
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    // 416 on a resume: the file was already complete (its digest decides).
    if (status == 416 && attempt.base > 0) return {Result<void>(), false};
    const Errc errc = status == 404 || status == 410 ? Errc::not_found : Errc::io;
    return {Error(errc, what + ": HTTP " + std::to_string(status)), status >= 500};
  }
  if (code == CURLE_WRITE_ERROR) {
    return {Error(Errc::io, what + ": writing the download failed"), false};
  }
  const std::string detail = reason[0] != '\0' ? reason : curl_easy_strerror(code);
  if (code == CURLE_OPERATION_TIMEDOUT) return {Error(Errc::timeout, what + ": " + detail), true};
  const bool transient = code == CURLE_PARTIAL_FILE || code == CURLE_RECV_ERROR ||
                         code == CURLE_SEND_ERROR || code == CURLE_GOT_NOTHING;
  return {Error(Errc::io, what + ": " + detail), transient};
}

// Attempts until success, a permanent failure, or the retries are spent.
Result<void> with_retries(const DownloadOptions& options, const std::function<Outcome()>& once) {
  Outcome outcome = once();
  for (int i = 0; i < options.retries && !outcome.result && outcome.retry; ++i) {
    if (options.cancel != nullptr && options.cancel->load()) {
      return Error(Errc::cancelled, "download cancelled");
    }
    outcome = once();
  }
  return outcome.result;
}

}  // namespace

Result<void> download(const std::string& url, const std::filesystem::path& destination,
                      const DownloadOptions& options) {
  const int fd = ::open(destination.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return vmm::detail::errno_error(Errc::io, "open " + vmm::detail::quoted(destination));
  const auto close_fd = std::unique_ptr<const int, void (*)(const int*)>(&fd, [](const int* f) { ::close(*f); });
  return with_retries(options, [&]() -> Outcome {
    const off_t end = ::lseek(fd, 0, SEEK_END);
    if (end < 0) return {vmm::detail::errno_error(Errc::io, "seek " + vmm::detail::quoted(destination)), false};
    Attempt attempt(url, options);
    attempt.base = static_cast<std::uint64_t>(end);
    attempt.write = [&](const char* data, std::size_t size) {
      return vmm::detail::write_all(fd, std::string_view(data, size));
    };
    attempt.restart = [&] { return ::ftruncate(fd, 0) == 0 && ::lseek(fd, 0, SEEK_SET) == 0; };
    return perform(attempt);
  });
}

Result<std::string> download_text(const std::string& url, const DownloadOptions& options,
                                  std::size_t limit) {
  std::string text;
  bool too_long = false;
  auto result = with_retries(options, [&]() -> Outcome {
    text.clear();
    Attempt attempt(url, options);
    attempt.write = [&](const char* data, std::size_t size) {
      if (text.size() + size > limit) {
        too_long = true;
        return false;
      }
      text.append(data, size);
      return true;
    };
    attempt.restart = [&] { text.clear(); return true; };
    return perform(attempt);
  });
  if (too_long) {
    return Error(Errc::invalid_config, "GET " + url + ": longer than " + std::to_string(limit) +
                                           " bytes, not a checksum manifest");
  }
  if (!result) return std::move(result).error();
  return text;
}

}  // namespace vmm::images
