// vmm: vfkit's REST API over a running VirtualMachine (opt-in; what vmm-run --restful-uri
// serves). Endpoints, as vfkit's pkg/rest:
//   GET  /vm/state    {"state": "VirtualMachineStateRunning", "canStart": ..., "canPause": ...,
//                      "canResume": ..., "canStop": ..., "canHardStop": ...}          200
//   POST /vm/state    {"state": "Stop"|"HardStop"|"Pause"|"Resume"}                   202 once done
//   GET  /vm/inspect  the VM's config as vmm JSON (VmConfig::to_json)                200
// and vmm's additions (crc-org/vfkit#449), with the library's pre- and post-states:
//   POST /vm/save     {"path": BUNDLE}  a paused VM saved into BUNDLE, still paused     202
//   POST /vm/restore  {"path": BUNDLE}  a stopped VM restored from BUNDLE, paused      202
// A body that is not a JSON object, or lacks a string "path" (save, restore), is 400; an unknown
// "state" value and a refused or failed operation are 500 (as vfkit); each error body is
// {"error": MESSAGE}. Any other method or path is 404.
#pragma once

#include <cstdint>
#include <memory>

#include "vmm/error.hpp"
#include "vmm/vfkit.hpp"
#include "vmm/virtual_machine.hpp"

namespace vmm::vfkit {

class RestServer {
 public:
  // Binds `endpoint` (a unix socket file left over from an earlier run is replaced; another
  // kind of file at that path is an error) and serves on threads of its own until destroyed.
  // `endpoint` must not be none.
  static Result<std::unique_ptr<RestServer>> start(const RestEndpoint& endpoint,
                                                   std::shared_ptr<VirtualMachine> vm);
  // Stops serving, waits for requests in flight, and removes the unix socket file.
  ~RestServer();
  RestServer(const RestServer&) = delete;
  RestServer& operator=(const RestServer&) = delete;

  // The bound TCP port (the one chosen by the system for port 0); 0 for a unix socket.
  std::uint16_t port() const;

  struct Impl;

 private:
  explicit RestServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vmm::vfkit
