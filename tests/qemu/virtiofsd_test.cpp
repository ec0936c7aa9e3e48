// virtiofsd's command line: the share's directory and nothing more, on the socket passed as
// descriptor 3, with its own namespace sandbox asked for explicitly (virtiofsd.hpp).
#include "qemu/virtiofsd.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace vmm::qemu {
namespace {

using ::testing::ElementsAre;

TEST(QemuVirtiofsd, ServesTheShareOnlyOnItsSocketInsideItsNamespaceSandbox) {
  EXPECT_THAT(virtiofsd_arguments("/usr/lib/qemu/virtiofsd", "/srv/share dir"),
              ElementsAre("/usr/lib/qemu/virtiofsd", "--fd=3", "-o", "source=/srv/share dir",
                          "-o", "cache=none", "-o", "sandbox=namespace"));
}

}  // namespace
}  // namespace vmm::qemu
