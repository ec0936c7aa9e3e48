// vfkit's --ignition (include/vmm/vfkit_ignition.hpp): cpp-httplib on a unix socket in a private
// directory, and a listen-mode vsock bridge from guest port 1024 to it.
#include "vmm/vfkit_ignition.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include "vfkit/http_server.hpp"
#include "vfkit/sockets.hpp"

namespace vmm::vfkit {

namespace fs = std::filesystem;

struct IgnitionServer::Impl {
  fs::path directory;  // private (0700), holds the socket; removed last
  fs::path socket;
  detail::HttpServer server;
  std::thread thread;
  std::unique_ptr<VsockBridge> bridge;

  ~Impl() {
    bridge.reset();  // no new guest connections first
    server.stop();
    if (thread.joinable()) thread.join();
    std::error_code ec;
    if (!directory.empty()) fs::remove_all(directory, ec);
  }
};

IgnitionServer::IgnitionServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
IgnitionServer::~IgnitionServer() = default;

const fs::path& IgnitionServer::socket_path() const { return impl_->socket; }

Result<std::unique_ptr<IgnitionServer>> IgnitionServer::start(const fs::path& file,
                                                             GuestVsock guest) {
  std::ifstream in(file, std::ios::binary);
  std::error_code ec;
  if (!in || fs::is_directory(file, ec)) {
    return make_error(Errc::not_found, "--ignition: cannot read " + file.string());
  }
  std::string config((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return make_error(Errc::io, "--ignition: cannot read " + file.string());

  auto impl = std::make_unique<Impl>();
  // A short path under the temporary directory: unix socket paths are limited to ~104 bytes.
  std::string pattern = (fs::temp_directory_path() / "vmm-ignition-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return make_error(Errc::io, "--ignition: cannot make a directory for its socket in " +
                                    fs::temp_directory_path().string());
  }
  impl->directory = pattern;
  impl->socket = impl->directory / "ignition.sock";
  auto listener = detail::listen_unix(impl->socket, "--ignition");
  if (!listener) return std::move(listener).error();
  // Whatever path Ignition asks for, the answer is the config (vfkit serves it the same way).
  impl->server.Get(".*", [config](const httplib::Request&, httplib::Response& response) {
    response.set_content(config, "application/json");
  });
  impl->server.adopt_listening_socket(listener->release());  // closed by the server's stop()
  auto* server = &impl->server;
  impl->thread = std::thread([server] { server->listen_after_bind(); });
  // stop() only closes the socket of a server that is running: wait until it is.
  for (int i = 0; i < 5000 && !impl->server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  auto bridge = VsockBridge::start({ignition_vsock_port, impl->socket, true}, std::move(guest));
  if (!bridge) {
    return make_error(bridge.error().code(),
                      "--ignition: cannot listen on guest vsock port 1024: " +
                          bridge.error().message());
  }
  impl->bridge = std::move(*bridge);
  return std::unique_ptr<IgnitionServer>(new IgnitionServer(std::move(impl)));
}

}  // namespace vmm::vfkit
