// The files and descriptor a 10-device config names, created once per process in a temporary
// directory (the builder checks that they exist, so a benchmark of validation needs real ones).
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include <sys/socket.h>
#include <unistd.h>

namespace vmm_bench {

class HostFiles {
 public:
  static const HostFiles& get() {
    static const HostFiles files;
    return files;
  }

  std::filesystem::path path(const std::string& name) const { return root_ / name; }
  // One end of a connected datagram socket pair, for a file-handle network.
  int datagram_fd() const { return sockets_[0]; }

  HostFiles(const HostFiles&) = delete;
  HostFiles& operator=(const HostFiles&) = delete;

 private:
  HostFiles() {
    root_ =
        std::filesystem::temp_directory_path() / ("vmm-bench-config-" + std::to_string(::getpid()));
    std::filesystem::create_directories(root_);
    for (const char* file : {"vmlinuz", "initrd.img", "root.img", "data.img", "seed.iso"})
      std::ofstream(root_ / file) << "bench";
    for (const char* dir : {"home", "src"}) std::filesystem::create_directories(root_ / dir);
    if (::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sockets_) != 0)
      sockets_[0] = sockets_[1] = -1;
  }
  ~HostFiles() {
    for (int fd : sockets_) {
      if (fd >= 0) ::close(fd);
    }
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }

  std::filesystem::path root_;
  int sockets_[2] = {-1, -1};
};

}  // namespace vmm_bench
