// Test support: an HTTP server on 127.0.0.1 (cpp-httplib) for the image tests. It serves
// in-memory files, counts requests per path, records Range headers, and can cut a response
// half-way to test resumed downloads.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace httplib {
class Server;
}

namespace vmm::support {

class HttpServer {
 public:
  HttpServer();  // listening on an ephemeral port when constructed; fails the test otherwise
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // GET `path` answers `body` (Range requests get 206 partial content).
  void serve(const std::string& path, std::string body);
  // The next `times` requests for `path` without a Range send `after` bytes and drop the connection.
  void cut(const std::string& path, std::size_t after, int times = 1);
  // GET `from` answers 302 with Location: `to` (a path on this server).
  void redirect(const std::string& from, const std::string& to);
  // The next request for `path` sends `after` bytes, then nothing for `seconds` before the rest.
  void stall(const std::string& path, std::size_t after, int seconds);
  std::string url(std::string_view path) const;
  int requests(const std::string& path) const;
  // The Range header of every request for `path` ("" when none), in order.
  std::vector<std::string> ranges(const std::string& path) const;

 private:
  struct Cut {
    std::size_t after = 0;
    int times = 0;
  };
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mutex_;
  std::map<std::string, std::string> files_;
  std::map<std::string, Cut> cuts_;
  std::map<std::string, std::string> redirects_;
  std::map<std::string, std::pair<std::size_t, int>> stalls_;
  std::map<std::string, std::vector<std::string>> seen_;
};

}  // namespace vmm::support
