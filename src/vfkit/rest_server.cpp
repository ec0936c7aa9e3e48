// vfkit's REST API (include/vmm/vfkit_server.hpp) with cpp-httplib. The handlers only translate:
// every decision about what a state allows comes from machine/lifecycle_rules.
#include "vmm/vfkit_server.hpp"

#include <httplib.h>
#include <sys/socket.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "machine/lifecycle_rules.hpp"
#include "vfkit/http_server.hpp"
#include "vfkit/sockets.hpp"

namespace vmm::vfkit {
namespace {

using nlohmann::json;
using vmm::detail::Operation;

using Server = detail::HttpServer;  // a unix socket or TCP (http_server.hpp)

void reply(httplib::Response& response, int status, const json& body) {
  response.status = status;
  response.set_content(body.dump(), "application/json");
}

void reply_error(httplib::Response& response, int status, const std::string& message) {
  reply(response, status, json{{"error", message}});
}

// The body as a JSON object, or a 400 already answered.
std::optional<json> object_body(const httplib::Request& request, httplib::Response& response) {
  auto body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    reply_error(response, 400, "the body is not a JSON object");
    return std::nullopt;
  }
  return body;
}

// Runs an operation and answers 202 once it is done, or 500 with its error.
void finish(httplib::Response& response, std::future<Result<void>> done) {
  auto result = done.get();
  if (!result) return reply_error(response, 500, result.error().to_string());
  response.status = 202;
}

json state_document(VmState state) {
  return json{{"state", std::string(state_name(state))},
              {"canStart", vmm::detail::allowed_from(Operation::start, state)},
              {"canPause", vmm::detail::allowed_from(Operation::pause, state)},
              {"canResume", vmm::detail::allowed_from(Operation::resume, state)},
              {"canStop", vmm::detail::allowed_from(Operation::request_stop, state)},
              {"canHardStop", vmm::detail::allowed_from(Operation::stop, state)}};
}

void install_routes(Server& server, const std::shared_ptr<VirtualMachine>& vm) {
  server.Get("/vm/state", [vm](const httplib::Request&, httplib::Response& response) {
    reply(response, 200, state_document(vm->state()));
  });
  server.Post("/vm/state", [vm](const httplib::Request& request, httplib::Response& response) {
    auto body = object_body(request, response);
    if (!body) return;
    const auto state = body->value("state", json()).is_string() ? (*body)["state"].get<std::string>() : "";
    if (state == "Pause") return finish(response, vm->pause());
    if (state == "Resume") return finish(response, vm->resume());
    if (state == "Stop") return finish(response, vm->request_stop());
    if (state == "HardStop") return finish(response, vm->stop());
    reply_error(response, 500, "invalid new VMState: \"" + state + "\" (Stop, HardStop, Pause or Resume)");
  });
  server.Get("/vm/inspect", [vm](const httplib::Request&, httplib::Response& response) {
    response.status = 200;
    response.set_content(vm->config().to_json(), "application/json");
  });
  const auto bundle_route = [&server, vm](const char* path, bool save) {
    server.Post(path, [vm, save](const httplib::Request& request, httplib::Response& response) {
      auto body = object_body(request, response);
      if (!body) return;
      const auto it = body->find("path");
      if (it == body->end() || !it->is_string() || it->get<std::string>().empty())
        return reply_error(response, 400, "the body needs \"path\": the bundle directory");
      const std::filesystem::path bundle = it->get<std::string>();
      finish(response, save ? vm->save(bundle) : vm->restore(bundle));
    });
  };
  bundle_route("/vm/save", true);
  bundle_route("/vm/restore", false);
}

}  // namespace

struct RestServer::Impl {
  Server server;
  std::thread thread;
  std::filesystem::path unix_path;
  std::uint16_t port = 0;
};

RestServer::RestServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<RestServer>> RestServer::start(const RestEndpoint& endpoint,
                                                      std::shared_ptr<VirtualMachine> vm) {
  auto impl = std::make_unique<Impl>();
  // SO_REUSEADDR only: cpp-httplib's default adds SO_REUSEPORT, under which a second server on
  // a port in use would bind too and share its requests instead of failing.
  impl->server.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  install_routes(impl->server, vm);
  if (endpoint.scheme == RestEndpoint::Scheme::unix_socket) {
    auto fd = detail::listen_unix(endpoint.path, "--restful-uri");
    if (!fd) return std::move(fd).error();
    impl->server.adopt_listening_socket(fd->release());  // the server closes it on stop()
    impl->unix_path = endpoint.path;
  } else if (endpoint.scheme == RestEndpoint::Scheme::tcp) {
    const int port = endpoint.port == 0 ? impl->server.bind_to_any_port(endpoint.host)
                                        : (impl->server.bind_to_port(endpoint.host, endpoint.port) ? endpoint.port : -1);
    if (port < 0)
      return make_error(Errc::io, "--restful-uri: cannot listen on " + to_string(endpoint));
    impl->port = static_cast<std::uint16_t>(port);
  } else {
    return make_error(Errc::invalid_config, "--restful-uri: none:// serves nothing");
  }
  auto* server = &impl->server;
  impl->thread = std::thread([server] { server->listen_after_bind(); });
  // stop() only closes the socket of a server that is running: wait until it is.
  for (int i = 0; i < 5000 && !impl->server.is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return std::unique_ptr<RestServer>(new RestServer(std::move(impl)));
}

RestServer::~RestServer() {
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  if (!impl_->unix_path.empty()) ::unlink(impl_->unix_path.c_str());
}

std::uint16_t RestServer::port() const { return impl_->port; }

}  // namespace vmm::vfkit
