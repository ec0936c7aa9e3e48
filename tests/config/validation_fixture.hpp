// The fixture shared by the validation-rule tests (config_validation*_test.cpp): a builder that
// builds, with a kernel and a disk image in a temporary directory, and the descriptors and MACs
// the network and serial rules are tried with.
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <filesystem>

#include "config/test_support.hpp"
#include "vmm/config.hpp"

namespace vmm_test {

// A descriptor number that is not open: opened, then closed.
inline int closed_fd() {
  int fds[2];
  if (::pipe(fds) != 0) return -1;
  ::close(fds[0]);
  ::close(fds[1]);
  return fds[0];
}

// Both ends of a socketpair, closed with the test.
struct SocketPair {
  explicit SocketPair(int type) {
    if (::socketpair(AF_UNIX, type, 0, fds.data()) != 0) fds = {-1, -1};
  }
  ~SocketPair() {
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
  }
  std::array<int, 2> fds{-1, -1};
};

class ValidationTest : public testing::Test {
 protected:
  // A builder that builds: every test adds the one bad (or boundary) value to it.
  vmm::VmConfigBuilder valid() const { return vmm::VmConfig::builder().linux_boot(kernel_); }
  vmm::Result<vmm::VmConfig> with_network(vmm::NetworkAttachment attachment) const {
    return valid().nat_network().network(std::move(attachment)).build();
  }
  vmm::Result<vmm::VmConfig> with_disk(vmm::DiskImage disk) const {
    return valid().disk(image_).disk(std::move(disk)).build();
  }

  TempDir temp_;
  fs::path kernel_ = temp_.file("vmlinuz", "kernel");
  fs::path image_ = temp_.file("root.img", "disk");
};

}  // namespace vmm_test
