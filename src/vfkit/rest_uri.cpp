// --restful-uri as vfkit reads it (pkg/rest/rest.go: parseRestfulURI): a scheme of none, unix,
// tcp or http; tcp needs HOST:PORT and no path; unix needs a path and no host.
#include <string>

#include "runtime/posix.hpp"
#include "vfkit/machine.hpp"
#include "vmm/vfkit.hpp"

namespace vmm::vfkit {
namespace {

Unexpected bad(std::string_view uri, std::string_view why) {
  return make_error(Errc::invalid_config,
                    "--restful-uri: \"" + std::string(uri) + "\": " + std::string(why));
}

}  // namespace

Result<RestEndpoint> parse_restful_uri(std::string_view uri) {
  const auto separator = uri.find("://");
  if (separator == std::string_view::npos) return bad(uri, "not SCHEME://...");
  const auto scheme = uri.substr(0, separator);
  const auto rest = uri.substr(separator + 3);
  RestEndpoint endpoint;
  if (scheme == "none") return endpoint;
  if (scheme == "unix") {
    if (rest.empty() || rest.front() != '/')
      return bad(uri, rest.empty() ? "missing path" : "a host is not allowed (unix:///PATH)");
    if (rest.size() > vmm::detail::max_unix_socket_path)
      return bad(uri, "the socket path is longer than " + std::to_string(vmm::detail::max_unix_socket_path) +
                          " bytes");
    endpoint.scheme = RestEndpoint::Scheme::unix_socket;
    endpoint.path = std::string(rest);
    return endpoint;
  }
  if (scheme != "tcp" && scheme != "http")
    return bad(uri, "unknown scheme " + std::string(scheme) + " (tcp, unix or none)");
  if (rest.find('/') != std::string_view::npos) return bad(uri, "a path is not allowed with tcp");
  std::string_view host, port;
  if (rest.starts_with('[')) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return bad(uri, "unclosed [ in the host");
    host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') port = rest.substr(close + 2);
  } else {
    const auto colon = rest.rfind(':');
    host = rest.substr(0, colon);
    if (colon != std::string_view::npos) port = rest.substr(colon + 1);
  }
  if (host.empty()) return bad(uri, "missing host");
  if (port.empty()) return bad(uri, "missing port");
  auto number = detail::parse_decimal("port", port, 0, 65535);
  if (!number) return bad(uri, number.error().message());
  endpoint.scheme = RestEndpoint::Scheme::tcp;
  endpoint.host = std::string(host);
  endpoint.port = static_cast<std::uint16_t>(*number);
  return endpoint;
}

std::string to_string(const RestEndpoint& endpoint) {
  switch (endpoint.scheme) {
    case RestEndpoint::Scheme::none: return "none://";
    case RestEndpoint::Scheme::unix_socket: return "unix://" + endpoint.path.string();
    case RestEndpoint::Scheme::tcp: {
      const bool v6 = endpoint.host.find(':') != std::string::npos;
      return "tcp://" + (v6 ? "[" + endpoint.host + "]" : endpoint.host) + ":" +
             std::to_string(endpoint.port);
    }
  }
  return "none://";
}

}  // namespace vmm::vfkit
