// CreateOptions::isolation on Virtualization.framework: every option set is unsupported, naming
// the option and why; the default asks for nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "vz/isolation.hpp"

namespace vmm::vz {
namespace {

using ::testing::HasSubstr;

void expect_refused(const Isolation& isolation, std::string_view option) {
  const auto checked = check_isolation(isolation);
  ASSERT_FALSE(checked) << option;
  EXPECT_EQ(checked.error().code(), Errc::unsupported);
  EXPECT_THAT(checked.error().message(), HasSubstr(std::string("isolation.") + std::string(option)));
  EXPECT_THAT(checked.error().message(), HasSubstr("XPC service"));
}

TEST(VzIsolation, TheDefaultPasses) { EXPECT_TRUE(check_isolation({})); }

TEST(VzIsolation, EveryOptionIsUnsupported) {
  Isolation sandbox;
  sandbox.sandbox = Sandbox::required;
  expect_refused(sandbox, "sandbox");
  sandbox.sandbox = Sandbox::off;
  expect_refused(sandbox, "sandbox");
  Isolation uid;
  uid.uid = 65534;
  uid.gid = 65534;
  expect_refused(uid, "uid");
  Isolation gid;
  gid.gid = 1;
  expect_refused(gid, "gid");
  Isolation jail;
  jail.jail = "/jail";
  expect_refused(jail, "jail");
  Isolation netns;
  netns.network_namespace = "/var/run/netns/a";
  expect_refused(netns, "network_namespace");
  Isolation cgroup;
  cgroup.cgroup = "/sys/fs/cgroup/vm";
  expect_refused(cgroup, "cgroup");
}

}  // namespace
}  // namespace vmm::vz
