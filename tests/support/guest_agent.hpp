// Test support: the host side of the test guest's command agent (scripts/guest-init.sh). Over a
// console port named "vmm.agent" the host sends "<token> <command>\n"; the guest runs the
// command with `sh -c` and answers with its output, then "\n<token> <status>\n".
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>

#include "vmm/error.hpp"
#include "vmm/file_descriptor.hpp"

namespace vmm::support {

// The name of the port the test guest's agent listens on.
inline constexpr std::string_view agent_port_name = "vmm.agent";

struct AgentReply {
  int status = -1;     // the command's exit status
  std::string output;  // stdout and stderr, joined, exactly as written
};

class GuestAgent {
 public:
  // `channel`: a stream to the guest's agent, e.g. VirtualMachine::console_port("vmm.agent").
  explicit GuestAgent(FileDescriptor channel) : channel_(std::move(channel)) {}

  // Runs one command line (no newline in it) in the guest. `timeout` covers sending and the
  // whole answer; the first command also waits for the guest to boot far enough. An error
  // (timeout, io, end-of-file) names the command.
  Result<AgentReply> run(std::string_view command,
                         std::chrono::milliseconds timeout = std::chrono::seconds(90));

 private:
  FileDescriptor channel_;
  unsigned sequence_ = 0;
  std::string pending_;  // bytes read past the last answer (none, unless the guest misbehaved)
};

}  // namespace vmm::support
