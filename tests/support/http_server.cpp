#include "support/http_server.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <optional>
#include <thread>

namespace vmm::support {

HttpServer::HttpServer() : server_(std::make_unique<httplib::Server>()) {
  server_->Get(".*", [this](const httplib::Request& request, httplib::Response& response) {
    std::string body;
    bool found = false;
    Cut cut;
    std::optional<std::pair<std::size_t, int>> stall;
    {
      std::lock_guard lock(mutex_);
      seen_[request.path].push_back(request.get_header_value("Range"));
      if (auto it = redirects_.find(request.path); it != redirects_.end()) {
        response.set_redirect(url(it->second), 302);
        return;
      }
      if (auto it = stalls_.find(request.path); it != stalls_.end()) {
        stall = it->second;
        stalls_.erase(it);
      }
      if (auto it = files_.find(request.path); it != files_.end()) {
        body = it->second;
        found = true;
      }
      if (auto it = cuts_.find(request.path);
          it != cuts_.end() && it->second.times > 0 && !request.has_header("Range")) {
        cut = it->second;
        --it->second.times;
      }
    }
    if (!found) {
      response.status = 404;
      response.set_content("not found", "text/plain");
      return;
    }
    if (stall) {
      auto shared = std::make_shared<std::string>(std::move(body));
      const auto [after, seconds] = *stall;
      response.set_content_provider(
          shared->size(), "application/octet-stream",
          [shared, after = after, seconds = seconds](std::size_t offset, std::size_t, httplib::DataSink& sink) {
            if (offset == after) std::this_thread::sleep_for(std::chrono::seconds(seconds));
            const std::size_t end = offset < after ? after : shared->size();
            sink.write(shared->data() + offset, end - offset);
            return true;
          });
      return;
    }
    if (cut.times > 0) {
      // Announce the whole length, send `after` bytes, then fail the provider: the connection
      // closes mid-body and the client sees a partial file.
      auto shared = std::make_shared<std::string>(std::move(body));
      const std::size_t after = cut.after;
      response.set_content_provider(
          shared->size(), "application/octet-stream",
          [shared, after](std::size_t offset, std::size_t, httplib::DataSink& sink) {
            if (offset >= after) return false;
            sink.write(shared->data() + offset, after - offset);
            return true;
          });
      return;
    }
    response.set_content(body, "application/octet-stream");
  });
  port_ = server_->bind_to_any_port("127.0.0.1");
  if (port_ <= 0) {
    ADD_FAILURE() << "test HTTP server: cannot bind 127.0.0.1";
    return;
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

HttpServer::~HttpServer() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

void HttpServer::serve(const std::string& path, std::string body) {
  std::lock_guard lock(mutex_);
  files_[path] = std::move(body);
}

void HttpServer::redirect(const std::string& from, const std::string& to) {
  std::lock_guard lock(mutex_);
  redirects_[from] = to;
}

void HttpServer::stall(const std::string& path, std::size_t after, int seconds) {
  std::lock_guard lock(mutex_);
  stalls_[path] = {after, seconds};
}

void HttpServer::cut(const std::string& path, std::size_t after, int times) {
  std::lock_guard lock(mutex_);
  cuts_[path] = Cut{after, times};
}

std::string HttpServer::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

int HttpServer::requests(const std::string& path) const {
  std::lock_guard lock(mutex_);
  auto it = seen_.find(path);
  return it == seen_.end() ? 0 : static_cast<int>(it->second.size());
}

std::vector<std::string> HttpServer::ranges(const std::string& path) const {
  std::lock_guard lock(mutex_);
  auto it = seen_.find(path);
  return it == seen_.end() ? std::vector<std::string>() : it->second;
}

}  // namespace vmm::support
