// CreateOptions::isolation and tap networks under real QEMU, as root (CI runs as root; elsewhere
// a non-root run skips, CI fails instead): one guest with the seccomp sandbox, uid/gid 65534, a
// chroot jail, a network namespace and a cgroup the test makes. The QEMU process shows each of
// them in /proc, the guest reaches a server in another namespace through its tap, writes its
// disk, and save/restore still work; the restored QEMU is confined again.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "guest_fixture.hpp"
#include "support/guest_agent.hpp"

#if defined(__linux__)  // the QEMU backend runs on Linux only

namespace vmm::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

constexpr auto kOp = std::chrono::milliseconds(120s);
constexpr std::uint32_t kNobody = 65534;

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

// The value of `key:` in /proc/PID/status, tabs as single spaces, trimmed.
std::string status_field(int pid, std::string_view key) {
  std::istringstream in(read_text(fmt::format("/proc/{}/status", pid)));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(std::string(key) + ":", 0) != 0) continue;
    std::string value = line.substr(key.size() + 1);
    std::replace(value.begin(), value.end(), '\t', ' ');
    const auto first = value.find_first_not_of(' ');
    const auto last = value.find_last_not_of(' ');
    return first == std::string::npos ? std::string{} : value.substr(first, last - first + 1);
  }
  return {};
}

bool run(const std::string& command) { return std::system(command.c_str()) == 0; }

// The first cgroup2 mount (a v1 hierarchy if there is none): where the test makes its cgroup.
fs::path cgroup_root() {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  fs::path v1;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devices, root, mount_point;
    fields >> id >> parent >> devices >> root >> mount_point;
    if (line.find(" - cgroup2 ") != std::string::npos) return mount_point;
    if (v1.empty() && line.find(" - cgroup ") != std::string::npos) v1 = mount_point;
  }
  return v1;
}

// Two network namespaces and a cgroup made for one test, removed on every way out (the
// destructor runs after a failed ASSERT too; deleting a namespace deletes its interfaces).
// QEMU runs in `netns()`, which holds the tap (10.77.0.1/24, the guest is 10.77.0.2) and one
// end of a veth pair (10.78.0.1); the other end is in the peer namespace (10.78.0.2), where the
// test's server listens. Needs root.
class Confinement {
 public:
  static constexpr const char* tap = "vmmtap0";
  static constexpr const char* server_address = "10.78.0.2";
  static constexpr std::uint16_t server_port = 5555;

  Confinement()
      : netns_name_(fmt::format("vmm-jail-{}", ::getpid())),
        peer_name_(fmt::format("vmm-peer-{}", ::getpid())),
        cgroup_(cgroup_root() / fmt::format("vmm-jail-{}", ::getpid())) {
    made_netns_ = run("ip netns add " + netns_name_ + " 2>/dev/null");
    made_peer_ = run("ip netns add " + peer_name_ + " 2>/dev/null");
    std::error_code ec;
    made_cgroup_ = !cgroup_root().empty() && fs::create_directory(cgroup_, ec);
    const auto a = fmt::format("vj{}a", ::getpid());
    const auto b = fmt::format("vj{}b", ::getpid());
    const auto in = [](const std::string& ns, const std::string& command) {
      return run(fmt::format("ip netns exec {} {} >/dev/null 2>&1", ns, command));
    };
    wired_ = made_netns_ && made_peer_ &&
             run(fmt::format("ip link add {} type veth peer name {} >/dev/null 2>&1", a, b)) &&
             run(fmt::format("ip link set {} netns {} && ip link set {} netns {}", a, netns_name_,
                             b, peer_name_)) &&
             in(netns_name_, fmt::format("ip tuntap add dev {} mode tap", tap)) &&
             in(netns_name_, fmt::format("ip addr add 10.77.0.1/24 dev {}", tap)) &&
             in(netns_name_, fmt::format("ip link set {} up", tap)) &&
             in(netns_name_, fmt::format("ip addr add 10.78.0.1/24 dev {}", a)) &&
             in(netns_name_, fmt::format("ip link set {} up", a)) &&
             in(netns_name_, "sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward'") &&
             in(peer_name_, fmt::format("ip addr add {}/24 dev {}", server_address, b)) &&
             in(peer_name_, fmt::format("ip link set {} up", b)) &&
             in(peer_name_, "ip route add 10.77.0.0/24 via 10.78.0.1");
  }
  ~Confinement() {
    if (made_netns_) (void)run("ip netns del " + netns_name_ + " 2>/dev/null");
    if (made_peer_) (void)run("ip netns del " + peer_name_ + " 2>/dev/null");
    // A cgroup goes once it has no processes: QEMU has been reaped when the VM is destroyed.
    if (made_cgroup_) ::rmdir(cgroup_.c_str());
  }
  Confinement(const Confinement&) = delete;
  Confinement& operator=(const Confinement&) = delete;

  bool ready() const { return wired_ && made_cgroup_; }
  fs::path netns() const { return fs::path("/var/run/netns") / netns_name_; }
  fs::path peer_netns() const { return fs::path("/var/run/netns") / peer_name_; }
  const fs::path& cgroup() const { return cgroup_; }
  // Everything at once: the seccomp sandbox, nobody, the jail, this namespace and cgroup.
  Isolation isolation(const fs::path& jail) const {
    Isolation isolation;
    isolation.sandbox = Sandbox::required;
    isolation.uid = kNobody;
    isolation.gid = kNobody;
    isolation.jail = jail;
    isolation.network_namespace = netns();
    isolation.cgroup = cgroup_;
    return isolation;
  }

 private:
  std::string netns_name_;
  std::string peer_name_;
  fs::path cgroup_;
  bool made_netns_ = false;
  bool made_peer_ = false;
  bool made_cgroup_ = false;
  bool wired_ = false;
};

// A TCP server in the peer namespace (the listening thread alone joins it): the first line one
// client sends, once one does.
class PeerServer {
 public:
  explicit PeerServer(const fs::path& netns) {
    std::promise<bool> listening;
    auto ready = listening.get_future();
    thread_ = std::thread([this, netns, listening = std::move(listening)]() mutable {
      FileDescriptor ns(::open(netns.c_str(), O_RDONLY | O_CLOEXEC));
      FileDescriptor server(ns && ::setns(ns.get(), CLONE_NEWNET) == 0
                                ? ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)
                                : -1);
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_port = htons(Confinement::server_port);
      ::inet_pton(AF_INET, Confinement::server_address, &address.sin_addr);
      const bool ok = server &&
                      ::bind(server.get(), reinterpret_cast<sockaddr*>(&address),
                             sizeof address) == 0 &&
                      ::listen(server.get(), 4) == 0;
      listening.set_value(ok);
      if (!ok) return;
      pollfd fds[2] = {{server.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
      if (::poll(fds, 2, 300'000) <= 0 || (fds[0].revents & POLLIN) == 0) return;
      FileDescriptor client(::accept4(server.get(), nullptr, nullptr, SOCK_CLOEXEC));
      std::string text;
      char buffer[256];
      for (ssize_t n = 0; client && (n = ::read(client.get(), buffer, sizeof buffer)) > 0;) {
        text.append(buffer, static_cast<std::size_t>(n));
        if (text.find('\n') != std::string::npos) break;
      }
      std::lock_guard lock(mutex_);
      line_ = text.substr(0, text.find('\n'));
    });
    listening_ = ready.get();
  }
  ~PeerServer() {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(stop_.get(), &one, sizeof one);
    thread_.join();
  }
  PeerServer(const PeerServer&) = delete;
  PeerServer& operator=(const PeerServer&) = delete;

  bool listening() const { return listening_; }
  std::string line() {
    std::lock_guard lock(mutex_);
    return line_;
  }

 private:
  FileDescriptor stop_{::eventfd(0, EFD_CLOEXEC)};
  std::mutex mutex_;
  std::string line_;
  bool listening_ = false;
  std::thread thread_;
};

void require_root() {
  if (::geteuid() == 0) return;
  if (running_in_ci()) FAIL() << "the isolation tests need root (CI runs as root)";
  GTEST_SKIP() << "the isolation tests need root";
}

// Everything the issue asks to see of a confined QEMU, for the one QEMU this test started.
void expect_confined(const fs::path& jail, const Confinement& confinement) {
  const auto pids = child_qemu_pids();
  ASSERT_EQ(pids.size(), 1U);
  const int pid = pids.front();
  EXPECT_EQ(status_field(pid, "Uid"), "65534 65534 65534 65534");
  EXPECT_EQ(status_field(pid, "Gid"), "65534 65534 65534 65534");
  EXPECT_EQ(status_field(pid, "Groups"), "65534");
  EXPECT_EQ(status_field(pid, "Seccomp"), "2");
  EXPECT_EQ(status_field(pid, "CapEff"), "0000000000000000");
  std::error_code ec;
  EXPECT_EQ(fs::read_symlink(fmt::format("/proc/{}/root", pid), ec), fs::canonical(jail));
  struct stat qemu_net {};
  struct stat netns {};
  ASSERT_EQ(::stat(fmt::format("/proc/{}/ns/net", pid).c_str(), &qemu_net), 0);
  ASSERT_EQ(::stat(confinement.netns().c_str(), &netns), 0);
  EXPECT_EQ(qemu_net.st_ino, netns.st_ino) << "QEMU is not in the test's network namespace";
  const auto procs = read_text(confinement.cgroup() / "cgroup.procs");
  EXPECT_THAT("\n" + procs, HasSubstr(fmt::format("\n{}\n", pid)));
}

TEST(QemuIsolation, SandboxUidJailNetnsAndCgroupHoldAcrossSaveAndRestore) {
  const auto assets = find_guest_assets();
  VMM_REQUIRE_GUEST(assets);
  require_root();
  if (::testing::Test::IsSkipped() || ::testing::Test::HasFatalFailure()) return;
  Confinement confinement;
  ASSERT_TRUE(confinement.ready()) << "cannot make a network namespace or a cgroup";
  TempDir dir;
  const auto jail = dir.dir("jail");
  const auto disk = dir.path() / "disk.img";
  { std::ofstream(disk, std::ios::binary).put('\0'); }
  fs::resize_file(disk, 8 << 20);

  GuestConsole console;
  PeerServer server(confinement.peer_netns());
  ASSERT_TRUE(server.listening());
  const auto mac = *MacAddress::parse("52:54:00:77:00:02");
  auto config = guest_config(assets,
                             fmt::format("vmm.write_vda=CONFINED vmm.interval_ms=100 "
                                         "vmm.net_address=10.77.0.2/24 vmm.net_gateway=10.77.0.1 "
                                         "vmm.net_send={}:{}",
                                         Confinement::server_address, Confinement::server_port))
                    .disk(disk)
                    .network(TapNetwork{Confinement::tap}, mac)
                    .build();
  ASSERT_TRUE(config) << config.error().to_string();
  auto options = guest_create_options(console);
  options.isolation = confinement.isolation(jail);
  options.working_directory = dir.path() / "work";
  auto vm = VirtualMachine::create(*config, options);
  ASSERT_TRUE(vm) << vm.error().to_string();
  auto started = (*vm)->start().get();
  ASSERT_TRUE(started) << started.error().to_string();
  // Right after start, before the guest has written anything.
  const auto early = (*vm)->metrics();
  ASSERT_TRUE(early.hypervisor_pid.has_value());
  ASSERT_TRUE(console.wait_for_line("VMM-DISK-WRITTEN vda", kBoot));
  const auto before = console.wait_counter_above(2, kBoot);
  ASSERT_TRUE(before);
  expect_confined(jail, confinement);
  // Through the tap in QEMU's namespace, routed to the peer namespace's veth: the only place
  // the server listens.
  const auto sent = fmt::format("VMM-NET-SENT {}:{}", Confinement::server_address,
                                Confinement::server_port);
  ASSERT_TRUE(console.wait_for_line(sent, kBoot)) << "the guest did not reach the peer";
  EXPECT_EQ(server.line(), "VMM-NET-HELLO " + mac.to_string());
  // Metrics move as the guest works: its disk write, its packets through the tap, CPU time.
  const auto later = (*vm)->metrics();
  EXPECT_EQ(later.hypervisor_pid, early.hypervisor_pid);
  ASSERT_EQ(later.disks.size(), 1U) << later.to_string();
  const auto early_written = early.disks.empty() ? 0 : early.disks[0].write_bytes;
  EXPECT_GT(later.disks[0].write_bytes, early_written) << later.to_string();
  EXPECT_GT(later.disks[0].write_operations, 0U);
  ASSERT_EQ(later.taps.size(), 1U) << later.to_string();
  EXPECT_EQ(later.taps[0].ifname, Confinement::tap);
  EXPECT_GT(later.taps[0].rx_packets, 0U) << "the guest's frames, received by the host's tap";
  EXPECT_GT(later.taps[0].tx_packets, 0U);
  ASSERT_TRUE(early.cpu_user && later.cpu_user && later.cpu_system && early.cpu_system);
  EXPECT_GT(*later.cpu_user + *later.cpu_system, *early.cpu_user + *early.cpu_system);
  ASSERT_TRUE(later.rss_bytes && later.pss_bytes);
  EXPECT_GT(*later.rss_bytes, 16U << 20);
  EXPECT_GT(*later.pss_bytes, 0U);
  ASSERT_TRUE(later.uptime);
  EXPECT_GT(*later.uptime, *early.uptime);
  // QEMU's log: one file per run in the working directory.
  EXPECT_EQ((*vm)->log_path(), options.working_directory / "qemu-run-1.log");
  EXPECT_TRUE(fs::exists(options.working_directory / "qemu-run-1.log"));
  // The guest's write reached the disk QEMU opened before it dropped to nobody.
  EXPECT_EQ(read_text(disk).substr(0, 9), "CONFINED\n");

  // Save and restore under all of it: the state file travels as a descriptor.
  ASSERT_TRUE((*vm)->pause().get());
  const auto bundle = dir.path() / "bundle";
  auto saved = (*vm)->save(bundle).get();
  ASSERT_TRUE(saved) << saved.error().to_string();
  const long at_save = console.last_counter();
  ASSERT_TRUE((*vm)->stop().get());
  auto restored = (*vm)->restore(bundle).get();
  ASSERT_TRUE(restored) << restored.error().to_string();
  ASSERT_TRUE((*vm)->resume().get());
  const auto after = console.wait_counter_above(at_save + 2, kOp);
  ASSERT_TRUE(after) << "the restored guest did not continue its counter";
  expect_confined(jail, confinement);
  EXPECT_EQ((*vm)->log_path(), options.working_directory / "qemu-run-2.log");
  ASSERT_TRUE((*vm)->stop().get());
}

// This process's descendants named `comm` (virtiofsd: the daemon vmm spawned and the child its
// namespace sandbox forks to do the serving).
std::vector<int> descendants_named(std::string_view comm) {
  std::vector<std::pair<int, int>> procs;  // pid, ppid
  std::vector<int> named;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const auto name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const auto pid = std::stoi(name);
    const auto ppid = status_field(pid, "PPid");
    if (!ppid.empty()) procs.emplace_back(pid, std::stoi(ppid));
  }
  std::vector<int> descendants{static_cast<int>(::getpid())};
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& [pid, ppid] : procs) {
      const bool parent_known =
          std::find(descendants.begin(), descendants.end(), ppid) != descendants.end();
      if (!parent_known || std::find(descendants.begin(), descendants.end(), pid) !=
                               descendants.end()) {
        continue;
      }
      descendants.push_back(pid);
      if (status_field(pid, "Name") == comm) named.push_back(pid);
      grew = true;
    }
  }
  return named;
}

ino_t namespace_inode(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 ? info.st_ino : 0;
}

// virtiofsd next to a confined QEMU (src/qemu/virtiofsd.hpp): it serves the guest's reads, is in
// the VM's cgroup, under its own seccomp filter, and in a network namespace of its own with no
// interface but loopback (its namespace sandbox unshares one after it joined the VM's), never
// the host's. A share blocks save on QEMU, so this is a boot of its own, without save/restore.
TEST(QemuIsolation, VirtiofsdServesAShareInTheVmsCgroupUnderSeccompWithNoNetwork) {
  const auto assets = find_guest_assets();
  VMM_REQUIRE_GUEST(assets);
  require_root();
  if (::testing::Test::IsSkipped() || ::testing::Test::HasFatalFailure()) return;
  Confinement confinement;
  ASSERT_TRUE(confinement.ready()) << "cannot make a network namespace or a cgroup";
  TempDir dir;
  const auto jail = dir.dir("jail");
  const auto share = dir.dir("share");
  std::ofstream(share / "from-host.txt") << "served by a confined virtiofsd\n";
  GuestConsole console;
  auto config = guest_config(assets, "vmm.agent=1")
                    .console_port(std::string(support::agent_port_name))
                    .share("hostshare", share)
                    .build();
  ASSERT_TRUE(config) << config.error().to_string();
  auto options = guest_create_options(console);
  options.isolation = confinement.isolation(jail);
  options.working_directory = dir.path() / "work";
  auto vm = VirtualMachine::create(*config, options);
  ASSERT_TRUE(vm) << vm.error().to_string();
  auto started = (*vm)->start().get();
  ASSERT_TRUE(started) << started.error().to_string();
  auto channel = (*vm)->console_port(support::agent_port_name);
  ASSERT_TRUE(channel) << channel.error().to_string();
  support::GuestAgent agent(std::move(*channel));
  auto reply = agent.run("mkdir -p /mnt/share && mount -t virtiofs hostshare /mnt/share && "
                         "cat /mnt/share/from-host.txt",
                         kBoot);
  ASSERT_TRUE(reply) << reply.error().to_string();
  EXPECT_EQ(reply->status, 0) << reply->output;
  EXPECT_EQ(reply->output, "served by a confined virtiofsd\n");

  const auto daemons = descendants_named("virtiofsd");
  ASSERT_FALSE(daemons.empty()) << "no virtiofsd under this process";
  const auto procs = "\n" + read_text(confinement.cgroup() / "cgroup.procs");
  const auto host_net = namespace_inode("/proc/self/ns/net");
  bool filtered = false;
  for (const int pid : daemons) {
    EXPECT_THAT(procs, HasSubstr(fmt::format("\n{}\n", pid))) << "virtiofsd " << pid;
    const auto net = namespace_inode(fmt::format("/proc/{}/ns/net", pid));
    EXPECT_NE(net, 0U);
    EXPECT_NE(net, host_net) << "virtiofsd " << pid << " is in the host's network namespace";
    // Its namespace has loopback only: nothing to reach the network through.
    std::istringstream devices(read_text(fmt::format("/proc/{}/net/dev", pid)));
    std::string line;
    std::vector<std::string> interfaces;
    while (std::getline(devices, line)) {
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      const auto start = line.find_first_not_of(' ');
      interfaces.push_back(line.substr(start, colon - start));
    }
    EXPECT_EQ(interfaces, std::vector<std::string>{"lo"}) << "virtiofsd " << pid;
    filtered = filtered || status_field(pid, "Seccomp") == "2";
  }
  // The serving process (the sandbox's child) runs under virtiofsd's seccomp filter.
  EXPECT_TRUE(filtered) << "no virtiofsd process has a seccomp filter";
  ASSERT_TRUE((*vm)->stop().get());
}

TEST(QemuIsolation, EachBadOptionGivesItsError) {
  const auto assets = find_guest_assets();
  VMM_REQUIRE_GUEST(assets);
  TempDir dir;
  GuestConsole console;
  auto config = guest_config(assets).build();
  ASSERT_TRUE(config);
  const auto refused = [&](auto change, std::string_view option) {
    auto options = guest_create_options(console);
    options.working_directory = dir.path() / "work";
    change(options.isolation);
    const auto vm = VirtualMachine::create(*config, options);
    ASSERT_FALSE(vm) << option;
    EXPECT_THAT(vm.error().message(), HasSubstr(std::string("isolation.") + std::string(option)));
  };
  refused([&](Isolation& i) { i.jail = dir.file("file"); }, "jail");
  refused([&](Isolation& i) { i.network_namespace = dir.file("file"); }, "network_namespace");
  refused([&](Isolation& i) { i.network_namespace = "/proc/self/ns/mnt"; }, "network_namespace");
  refused([&](Isolation& i) { i.cgroup = dir.dir("plain"); }, "cgroup");
  refused([&](Isolation& i) { i.uid = 1; }, "gid");
  refused([&](Isolation& i) { i.gid = 1; }, "uid");
}

}  // namespace
}  // namespace vmm::testing

#endif  // __linux__
