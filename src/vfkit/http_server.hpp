// vmm internal: the cpp-httplib server vfkit's REST API and the ignition server run on.
// cpp-httplib 0.11 (Debian 12) binds TCP only; its listening socket is a protected member, so a
// unix socket bound by vmm (sockets.hpp, listen_unix) is handed to it and served by the same
// accept loop. The server closes the adopted socket on stop().
#pragma once

#include <httplib.h>

namespace vmm::vfkit::detail {

class HttpServer : public httplib::Server {
 public:
  void adopt_listening_socket(int fd) { svr_sock_ = fd; }
};

}  // namespace vmm::vfkit::detail
