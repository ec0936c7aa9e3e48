#include "vz/console_ports.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>

namespace vmm::vz {

namespace {

FileDescriptor dup_cloexec(int fd) { return FileDescriptor(::fcntl(fd, F_DUPFD_CLOEXEC, 0)); }

}  // namespace

Result<std::vector<ConsolePortChannel>> make_console_port_channels(std::size_t count) {
  std::vector<ConsolePortChannel> channels;
  for (std::size_t i = 0; i < count; ++i) {
    std::array<int, 2> fds{};
    // SOCK_CLOEXEC is Linux-only: set FD_CLOEXEC after, as macOS needs.
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds.data()) != 0) {
      return make_error(Errc::io, "console_ports[" + std::to_string(i) +
                                      "]: socketpair: " + std::strerror(errno));
    }
    ConsolePortChannel channel;
    channel.host.reset(fds[0]);
    channel.vm_read.reset(fds[1]);
    for (int fd : fds) (void)::fcntl(fd, F_SETFD, FD_CLOEXEC);
    channel.vm_write = dup_cloexec(channel.vm_read.get());
    if (!channel.vm_write) {
      return make_error(Errc::io, "console_ports[" + std::to_string(i) +
                                      "]: dup: " + std::strerror(errno));
    }
    channels.push_back(std::move(channel));
  }
  return channels;
}

Result<FileDescriptor> dup_console_port(const std::vector<FileDescriptor>& hosts,
                                        std::size_t index) {
  if (index >= hosts.size() || !hosts[index]) {
    return make_error(Errc::invalid_state, "console_port: the port has no channel");
  }
  auto copy = dup_cloexec(hosts[index].get());
  if (!copy) return make_error(Errc::io, std::string("console_port: dup: ") + std::strerror(errno));
  return copy;
}

}  // namespace vmm::vz
