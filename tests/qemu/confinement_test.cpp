// CreateOptions::isolation on the QEMU backend: QEMU's capabilities from its -help text, the
// flags it gets, the host checks at create, and the child's steps before exec.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fcntl.h>

#include <fstream>
#include <sstream>
#include <string>

#include "qemu/capabilities.hpp"
#include "qemu/confinement.hpp"
#include "qemu/process.hpp"
#include "test_support.hpp"

namespace vmm::qemu {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::ScratchDir;

// Excerpts of `qemu-system-x86_64 -help`: Debian's 7.2, and the 9.1 form of -run-with.
constexpr std::string_view kHelp72 =
    "-chroot dir     chroot to dir just before starting the VM\n"
    "-runas user     change to user id user just before starting the VM\n"
    "                user can be numeric uid:gid instead\n"
    "-sandbox on[,obsolete=allow|deny][,elevateprivileges=allow|deny|children]\n"
    "          [,spawn=allow|deny][,resourcecontrol=allow|deny]\n"
    "                Enable seccomp mode 2 system call filter (default 'off').\n";
constexpr std::string_view kHelp91 =
    "-run-with [async-teardown=on|off][,chroot=dir][user=username|uid:gid]\n"
    "                Set miscellaneous QEMU process lifecycle options:\n"
    "-runas user     change to user id user just before starting the VM\n"
    "-usb            enable on-board USB host controller (if not enabled by default)\n";

TEST(QemuCapabilities, ReadsTheOptionsOf72) {
  const auto caps = parse_qemu_help(kHelp72);
  EXPECT_TRUE(caps.sandbox);
  EXPECT_TRUE(caps.chroot_option);
  EXPECT_TRUE(caps.runas_option);
  EXPECT_FALSE(caps.run_with_chroot);
  EXPECT_FALSE(caps.run_with_user);
}

TEST(QemuCapabilities, ReadsRunWithAndNoSandboxWithoutSeccomp) {
  const auto caps = parse_qemu_help(kHelp91);
  EXPECT_FALSE(caps.sandbox);
  EXPECT_FALSE(caps.chroot_option);
  EXPECT_TRUE(caps.run_with_chroot);
  EXPECT_TRUE(caps.run_with_user);
  // "user=" elsewhere in the text is not -run-with's.
  EXPECT_FALSE(parse_qemu_help("-netdev user,id=str\n-chroot dir\n").run_with_user);
}

TEST(QemuCapabilities, TheInstalledQemuHasTheSandbox) {
  // The real binary CI runs (Debian 12's QEMU 7.2 is built with seccomp).
  const auto caps = probe_qemu_capabilities("/usr/bin/qemu-system-x86_64");
  ASSERT_TRUE(caps) << caps.error().to_string();
  EXPECT_TRUE(caps->sandbox);
  EXPECT_TRUE(caps->chroot_option || caps->run_with_chroot);
}

TEST(Confinement, SandboxIsOnByDefaultWhenQemuHasIt) {
  const auto argv = confinement_arguments({}, parse_qemu_help(kHelp72), "qemu");
  ASSERT_TRUE(argv) << argv.error().to_string();
  EXPECT_THAT(*argv, ElementsAre("-sandbox", "on,obsolete=deny,elevateprivileges=deny,"
                                             "spawn=deny,resourcecontrol=deny"));
}

TEST(Confinement, SandboxOffOrMissing) {
  Isolation off;
  off.sandbox = Sandbox::off;
  EXPECT_TRUE(confinement_arguments(off, parse_qemu_help(kHelp72), "qemu")->empty());
  // automatic without seccomp: nothing; required: unsupported, naming the option.
  EXPECT_TRUE(confinement_arguments({}, parse_qemu_help(kHelp91), "qemu")->empty());
  Isolation required;
  required.sandbox = Sandbox::required;
  const auto refused = confinement_arguments(required, parse_qemu_help(kHelp91), "/q");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Errc::unsupported);
  EXPECT_THAT(refused.error().message(), HasSubstr("isolation.sandbox"));
}

TEST(Confinement, UidJailAndSandboxOn72) {
  Isolation isolation;
  isolation.uid = 65534;
  isolation.gid = 65533;
  isolation.jail = "/srv/jail";
  const auto argv = confinement_arguments(isolation, parse_qemu_help(kHelp72), "qemu");
  ASSERT_TRUE(argv) << argv.error().to_string();
  // QEMU 7.2 installs the filter before -runas drops privileges: set*id must stay allowed.
  EXPECT_THAT(*argv, ElementsAre("-sandbox",
                                 "on,obsolete=deny,elevateprivileges=allow,spawn=deny,"
                                 "resourcecontrol=deny",
                                 "-chroot", "/srv/jail", "-runas", "65534:65533"));
}

TEST(Confinement, RunWithWhereQemuHasIt) {
  Isolation isolation;
  isolation.uid = 1;
  isolation.gid = 2;
  isolation.jail = "/a,b";
  const auto argv = confinement_arguments(isolation, parse_qemu_help(kHelp91), "qemu");
  ASSERT_TRUE(argv) << argv.error().to_string();
  EXPECT_THAT(*argv, ElementsAre("-run-with", "chroot=/a,,b,user=1:2"));
}

TEST(Confinement, UidAndGidGoTogether) {
  Isolation uid_only;
  uid_only.uid = 1;
  const auto a = confinement_arguments(uid_only, parse_qemu_help(kHelp72), "qemu");
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code(), Errc::invalid_config);
  EXPECT_THAT(a.error().message(), HasSubstr("isolation.gid"));
  Isolation gid_only;
  gid_only.gid = 1;
  const auto b = confinement_arguments(gid_only, parse_qemu_help(kHelp72), "qemu");
  ASSERT_FALSE(b);
  EXPECT_THAT(b.error().message(), HasSubstr("isolation.uid"));
}

TEST(Confinement, JailOrUidWithoutQemuSupportIsUnsupported) {
  Isolation jail;
  jail.jail = "/j";
  const auto a = confinement_arguments(jail, QemuCapabilities{}, "qemu");
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code(), Errc::unsupported);
  EXPECT_THAT(a.error().message(), HasSubstr("isolation.jail"));
  Isolation uid;
  uid.uid = 1;
  uid.gid = 1;
  const auto b = confinement_arguments(uid, QemuCapabilities{}, "qemu");
  ASSERT_FALSE(b);
  EXPECT_THAT(b.error().message(), HasSubstr("isolation.uid"));
}

TEST(ConfinementHost, JailMustBeADirectory) {
  ScratchDir dir;
  Isolation isolation;
  isolation.jail = dir.file("not-a-dir");
  const auto checked = check_confinement_host(isolation);
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().code(), Errc::invalid_config);
  EXPECT_THAT(checked.error().message(), HasSubstr("isolation.jail"));
  EXPECT_THAT(checked.error().message(), HasSubstr("not a directory"));
}

TEST(ConfinementHost, NetworkNamespaceMustBeOne) {
  ScratchDir dir;
  Isolation isolation;
  isolation.network_namespace = dir.file("netns");
  auto checked = check_confinement_host(isolation);
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().code(), Errc::invalid_config);
  EXPECT_THAT(checked.error().message(), HasSubstr("isolation.network_namespace"));
  EXPECT_THAT(checked.error().message(), HasSubstr("is not a network namespace"));
  // Another kind of namespace is not one either.
  isolation.network_namespace = "/proc/self/ns/uts";
  checked = check_confinement_host(isolation);
  ASSERT_FALSE(checked);
  EXPECT_THAT(checked.error().message(), HasSubstr("is not a network namespace"));
  isolation.network_namespace = dir.path() / "missing";
  checked = check_confinement_host(isolation);
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().code(), Errc::not_found);
}

TEST(ConfinementHost, CgroupMustBeOne) {
  ScratchDir dir;
  Isolation isolation;
  isolation.cgroup = dir.dir("plain");
  const auto checked = check_confinement_host(isolation);
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().code(), Errc::invalid_config);
  EXPECT_THAT(checked.error().message(), HasSubstr("isolation.cgroup"));
  EXPECT_THAT(checked.error().message(), HasSubstr("is not a cgroup"));
}

TEST(ConfinementHost, CgroupMembershipFilePerHierarchy) {
  // This process's own cgroup on every mounted hierarchy: cgroup.procs on cgroup2, tasks on v1.
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  int checked = 0;
  while (std::getline(in, line)) {
    const bool v2 = line.find(" - cgroup2 ") != std::string::npos;
    const bool v1 = line.find(" - cgroup ") != std::string::npos;
    if (!v1 && !v2) continue;
    std::istringstream fields(line);
    std::string id, parent, devices, root, mount_point;
    fields >> id >> parent >> devices >> root >> mount_point;
    const auto file = cgroup_membership_file(mount_point);
    ASSERT_TRUE(file) << file.error().to_string();
    EXPECT_EQ(file->filename(), v2 ? "cgroup.procs" : "tasks") << mount_point;
    ++checked;
  }
  EXPECT_GT(checked, 0) << "no cgroup file system mounted";
}

// Runs as nobody under ctest as root (tests/unprivileged_when_root.sh), so that it never skips.
TEST(ConfinementHost, SwitchingUidNeedsRoot) {
  if (::geteuid() == 0) GTEST_SKIP() << "root may switch uid";
  Isolation isolation;
  isolation.uid = 12345;
  isolation.gid = 12345;
  const auto checked = check_confinement_host(isolation);
  ASSERT_FALSE(checked);
  EXPECT_THAT(checked.error().message(), HasSubstr("isolation.uid"));
  EXPECT_THAT(checked.error().message(), HasSubstr("needs root"));
}

TEST(ChildSetup, AFileThatIsNotANamespaceFailsTheSpawnNamingTheOption) {
  ScratchDir dir;
  const auto path = dir.file("plain");
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  ChildSetup setup;
  setup.network_namespace_fd = fd.get();
  const auto spawned = Process::spawn({"/bin/true"}, {}, {}, setup);
  ASSERT_FALSE(spawned);
  EXPECT_THAT(spawned.error().message(), HasSubstr("isolation.network_namespace"));
}

TEST(ChildSetup, TheChildWritesItselfIntoTheCgroupFile) {
  // Any writable file stands in for cgroup.procs: the child writes "0" (itself) before exec.
  ScratchDir dir;
  const auto path = dir.file("cgroup.procs", "");
  FileDescriptor fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  ChildSetup setup;
  setup.cgroup_procs_fd = fd.get();
  auto spawned = Process::spawn({"/bin/true"}, {}, {}, setup);
  ASSERT_TRUE(spawned) << spawned.error().to_string();
  ASSERT_TRUE((*spawned)->wait(std::chrono::seconds(30)));
  std::ifstream in(path);
  std::string content;
  std::getline(in, content);
  EXPECT_EQ(content, "0");
}

}  // namespace
}  // namespace vmm::qemu
