// The unix sockets vfkit's REST server and vsock bridge listen on and connect to. Portable to
// macOS (no SOCK_CLOEXEC, accept4 or pipe2 there): close-on-exec is set right after creation.
#pragma once

#include <array>
#include <filesystem>
#include <string>

#include "vmm/error.hpp"
#include "vmm/file_descriptor.hpp"

namespace vmm::vfkit::detail {

// A listening stream socket at `path`. A socket file already there (left by an earlier run) is
// replaced; any other file is an invalid_config error. `what` starts each error message.
Result<FileDescriptor> listen_unix(const std::filesystem::path& path, const std::string& what);
// A stream connection to the server at `path`.
Result<FileDescriptor> connect_unix(const std::filesystem::path& path);
// accept() with close-on-exec; an invalid descriptor when nothing could be accepted.
FileDescriptor accept_connection(int listener);
// A close-on-exec pipe {read, write}.
Result<std::array<FileDescriptor, 2>> make_pipe(const std::string& what);

}  // namespace vmm::vfkit::detail
