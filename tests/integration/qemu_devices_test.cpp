// Every device proven from inside one real guest (the memory balloon included) (q35, TCG): the test guest's command agent
// (scripts/guest-init.sh, over the "vmm.agent" console port) runs the checks in the guest, and
// the host checks the other side of each effect. One boot, many checks, then a stop and a second
// start that proves the console port is a fresh channel per run.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>

#include "guest_fixture.hpp"
#include "support/files.hpp"
#include "support/guest_agent.hpp"
#include "support/loopback.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"
#include "vz/nat_forwarder.hpp"

#if defined(__linux__)  // the QEMU backend runs on Linux only

namespace vmm::testing {
namespace {

using namespace std::chrono_literals;
using support::read_head;
using support::GuestAgent;
using ::testing::HasSubstr;

constexpr std::uintmax_t kEachDiskBytes = 8 * 1024 * 1024;

// Finds a block device by the serial (device_id) the host gave it: virtio-blk has
// /sys/block/X/serial, NVMe /sys/block/X/device/serial (space-padded).
constexpr const char* kFindDisk =
    "disk() { for d in /sys/block/*; do "
    "s=$(cat $d/serial $d/device/serial 2>/dev/null | tr -d ' \\n'); "
    "[ \"$s\" = \"$1\" ] && echo /dev/${d##*/} && return 0; done; return 1; }; ";

void write_file(const std::filesystem::path& path, const std::string& text,
                std::uintmax_t size = 0) {
  std::ofstream(path, std::ios::binary) << text;
  if (size > 0) std::filesystem::resize_file(path, size);
}

DiskImage disk_with_id(const std::filesystem::path& path, std::string id,
                       void (*adjust)(DiskImage&) = nullptr) {
  DiskImage disk;
  disk.path = path;
  disk.device_id = std::move(id);
  if (adjust != nullptr) adjust(disk);
  return disk;
}

// Everything that arrives on a descriptor, read on a thread so that the writer never stalls.
class Drain {
 public:
  explicit Drain(int fd) : fd_(fd), thread_([this] { loop(); }) {}
  ~Drain() {
    stop_ = true;
    thread_.join();
  }
  Drain(const Drain&) = delete;
  Drain& operator=(const Drain&) = delete;
  bool wait_for(const std::string& text, std::chrono::milliseconds timeout) {
    return support::wait_until([&] { return contents().find(text) != std::string::npos; },
                               timeout);
  }
  std::string contents() {
    std::lock_guard lock(mutex_);
    return data_;
  }

 private:
  void loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      std::array<char, 4096> chunk{};
      const auto n = ::read(fd_, chunk.data(), chunk.size());
      if (n <= 0) break;
      std::lock_guard lock(mutex_);
      data_.append(chunk.data(), static_cast<std::size_t>(n));
    }
  }
  int fd_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::string data_;
  std::thread thread_;
};

TEST(QemuDevicesTest, EveryDeviceWorksInsideTheGuestAndPortsComeBackAfterARestart) {
  const auto assets = find_guest_assets();
  VMM_REQUIRE_GUEST(assets);
  TempDir dir;
  const auto rw = dir.path() / "rw.img";
  const auto ro = dir.path() / "ro.img";
  const auto nvme = dir.path() / "nvme.img";
  const auto qcow2 = dir.path() / "disk.qcow2";
  const auto limited = dir.path() / "limited.img";
  const auto share = dir.path() / "share";
  write_file(rw, "", kEachDiskBytes);
  write_file(ro, "ro-marker", kEachDiskBytes);
  write_file(nvme, "nvme-marker", kEachDiskBytes);
  write_file(limited, "", kEachDiskBytes);
  std::filesystem::create_directories(share);
  write_file(share / "from-host.txt", "written by the host\n");
  ASSERT_EQ(std::system(("qemu-img create -q -f qcow2 '" + qcow2.string() + "' 8M").c_str()), 0);

  // The host's HTTP server on loopback: slirp's 10.0.2.2 is the host's 127.0.0.1.
  httplib::Server http;
  http.Get("/page", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("vmm-http-page-body", "text/plain");
  });
  const int http_port = http.bind_to_any_port("127.0.0.1");
  ASSERT_GT(http_port, 0);
  std::thread http_thread([&] { http.listen_after_bind(); });
  struct StopHttp {
    httplib::Server& server;
    std::thread& thread;
    ~StopHttp() {
      server.stop();
      thread.join();
    }
  } stop_http{http, http_thread};

  std::array<int, 2> serial{};
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, serial.data()), 0);
  FileDescriptor serial_host(serial[0]);
  FileDescriptor serial_vm(serial[1]);

  // A forwarded host port to the guest's busybox httpd.
  PortForward web_forward;
  web_forward.host_port = support::free_loopback_port();
  web_forward.guest_port = 8080;
  ASSERT_GT(web_forward.host_port, 0U);

  auto builder = guest_config(assets, "vmm.agent=1 vmm.echo_input=1");
  builder.memory(Size::mib(256))
      .console_port(std::string(support::agent_port_name))
      .console_port("vmm.data")
      .disk(disk_with_id(rw, "VMMRW"))
      .disk(disk_with_id(ro, "VMMRO", [](DiskImage& d) { d.read_only = true; }))
      .disk(disk_with_id(qcow2, "VMMQCOW", [](DiskImage& d) { d.format = DiskFormat::qcow2; }))
      .disk(disk_with_id(nvme, "VMMNVME", [](DiskImage& d) { d.bus = BlockBus::nvme; }))
      .disk(disk_with_id(limited, "VMMLIMIT",
                         [](DiskImage& d) { d.limits.write_bytes.per_second = 1024 * 1024; }))
      .share("hostshare", share)
      .network(NatNetwork{{web_forward}})
      .entropy()
      .balloon()
      .serial(SerialToFd{serial_vm.get()});
  auto config = builder.build();
  ASSERT_TRUE(config) << config.error().to_string();
  GuestConsole console;
  auto vm = VirtualMachine::create(*config, guest_create_options(console));
  ASSERT_TRUE(vm) << vm.error().to_string();
  Drain serial_out(serial_host.get());

  // Before start there is no channel.
  EXPECT_EQ((*vm)->console_port("vmm.agent").error().code(), Errc::invalid_state);
  EXPECT_EQ((*vm)->console_port("nope").error().code(), Errc::invalid_config);
  ASSERT_TRUE(support::await((*vm)->start(), kBoot));
  auto channel = (*vm)->console_port(support::agent_port_name);
  ASSERT_TRUE(channel) << channel.error().to_string();
  GuestAgent agent(std::move(*channel));
  const auto run = [&](const std::string& command) {
    auto reply = agent.run(command, kBoot);
    EXPECT_TRUE(reply) << reply.error().to_string();
    return reply ? *reply : support::AgentReply{};
  };

  // The agent: output and exit status.
  auto reply = run("echo hello; echo oops >&2; exit 3");
  EXPECT_EQ(reply.status, 3);
  EXPECT_EQ(reply.output, "hello\noops\n");
  EXPECT_EQ(run("test -e /dev/virtio-ports/vmm.data").status, 0);

  // Console port bytes, host -> guest and guest -> host.
  auto data = (*vm)->console_port("vmm.data");
  ASSERT_TRUE(data) << data.error().to_string();
  const std::string to_guest = "host-to-guest-bytes\n";
  ASSERT_EQ(::write(data->get(), to_guest.data(), to_guest.size()),
            static_cast<ssize_t>(to_guest.size()));
  reply = run("head -n 1 /dev/virtio-ports/vmm.data");
  EXPECT_EQ(reply.output, to_guest);
  EXPECT_EQ(run("printf guest-to-host-bytes >/dev/virtio-ports/vmm.data").status, 0);
  {
    Drain from_guest(data->get());
    EXPECT_TRUE(from_guest.wait_for("guest-to-host-bytes", 30s)) << from_guest.contents();
  }

  // Disks, found by their serial.
  reply = run(std::string(kFindDisk) +
              "d=$(disk VMMRW) && printf vmm-pattern-rw | dd of=$d conv=notrunc,fsync");
  EXPECT_EQ(reply.status, 0) << reply.output;
  reply = run(std::string(kFindDisk) + "d=$(disk VMMRO) && head -c 9 $d && "
                                       "printf x | dd of=$d conv=notrunc,fsync");
  EXPECT_NE(reply.status, 0) << "a read-only disk took a write";
  EXPECT_THAT(reply.output, ::testing::StartsWith("ro-marker"));
  reply = run(std::string(kFindDisk) +
              "d=$(disk VMMQCOW) && printf vmm-pattern-qcow2 | dd of=$d conv=notrunc,fsync");
  EXPECT_EQ(reply.status, 0) << reply.output;
  reply = run(std::string(kFindDisk) + "d=$(disk VMMNVME) && echo $d && head -c 11 $d");
  EXPECT_EQ(reply.status, 0) << reply.output;
  EXPECT_THAT(reply.output, HasSubstr("/dev/nvme"));
  EXPECT_THAT(reply.output, HasSubstr("nvme-marker"));

  // Disk rate limits: 4 MiB written with O_DIRECT (no page cache to hide in) to a disk limited
  // to 1 MiB/s take about 4 s; QEMU's bucket lets ~0.1 s of rate through at once, so at least
  // 3 s is a safe bound. Timed in the guest from /proc/uptime. Unthrottled, TCG writes it in
  // well under a second.
  reply = run(std::string(kFindDisk) +
              "d=$(disk VMMLIMIT) && s=$(cut -d' ' -f1 /proc/uptime) && "
              "dd if=/dev/zero of=$d bs=64k count=64 oflag=direct 2>/dev/null && "
              "e=$(cut -d' ' -f1 /proc/uptime) && echo \"$s $e\"");
  ASSERT_EQ(reply.status, 0) << reply.output;
  {
    double started = 0;
    double ended = 0;
    ASSERT_EQ(std::sscanf(reply.output.c_str(), "%lf %lf", &started, &ended), 2) << reply.output;
    EXPECT_GE(ended - started, 3.0) << "4 MiB at a 1 MiB/s write limit took " << ended - started
                                    << " s in the guest";
  }
  // virtiofs: the guest reads the host's file; the host sees the guest's.
  reply = run("mkdir -p /mnt/share && mount -t virtiofs hostshare /mnt/share && "
              "cat /mnt/share/from-host.txt && echo written by the guest >/mnt/share/from-guest.txt");
  EXPECT_EQ(reply.status, 0) << reply.output;
  EXPECT_EQ(reply.output, "written by the host\n");
  EXPECT_TRUE(support::wait_until(
      [&] { return read_head(share / "from-guest.txt", 64) == "written by the guest\n"; }, 30s));

  // Entropy: the virtio RNG feeds /dev/hwrng.
  reply = run("cat /sys/class/misc/hw_random/rng_current && "
              "dd if=/dev/hwrng bs=16 count=1 2>/dev/null | od -An -tx1 | wc -w");
  EXPECT_EQ(reply.status, 0) << reply.output;
  EXPECT_THAT(reply.output, HasSubstr("virtio_rng"));
  EXPECT_THAT(reply.output, HasSubstr("16\n"));

  // NAT: DHCP gives the address guest_addresses() reports; the host's HTTP server through
  // slirp's gateway; a forwarded host port into the guest.
  reply = run("timeout 90 udhcpc -i eth0 -n -q -t 10 -T 3 -s /usr/share/udhcpc/default.script "
              "2>&1 && ip -4 addr show dev eth0");
  EXPECT_EQ(reply.status, 0) << reply.output;
  auto addresses = (*vm)->guest_addresses();
  ASSERT_TRUE(addresses) << addresses.error().to_string();
  ASSERT_EQ(addresses->size(), 1U);
  EXPECT_EQ((*addresses)[0].network, 0U);
  EXPECT_THAT(reply.output, HasSubstr("inet " + (*addresses)[0].address + "/24"));
  // The forward: host 127.0.0.1:<port> reaches the guest's httpd on 8080.
  reply = run("mkdir -p /www && echo guest-page >/www/index.html && httpd -p 8080 -h /www");
  EXPECT_EQ(reply.status, 0) << reply.output;
  httplib::Client client("127.0.0.1", static_cast<int>(web_forward.host_port));
  client.set_connection_timeout(10);
  client.set_read_timeout(30);
  std::string served;
  EXPECT_TRUE(support::wait_until(
      [&] {
        auto response = client.Get("/index.html");
        if (response && response->status == 200) served = response->body;
        return !served.empty();
      },
      60s));
  EXPECT_EQ(served, "guest-page\n");
  // VZ's NAT forwarder (src/vz/nat_forwarder.hpp), which cannot run VZ here, against this real
  // guest: a fake lease maps the VM's MAC to 127.0.0.1, where QEMU's forward stands in for the
  // guest's address, so the relay's connection ends at the guest's httpd.
  {
    const MacAddress guest_mac = (*vm)->config().networks()[0].mac;
    support::TempDir leases;
    const auto lease_file = leases.file(
        "dhcpd_leases", "{\n\tip_address=127.0.0.1\n\thw_address=1," + guest_mac.to_string() +
                            "\n\tlease=0x6763c1d4\n}\n");
    PortForward to_forward;
    to_forward.host_port = 0;  // any free port
    to_forward.guest_port = web_forward.host_port;
    const std::vector<vz::NatNetworkForwards> nat{{0, guest_mac, {to_forward}}};
    auto forwarder = vz::NatForwarder::start(nat, {vz::lease_file(lease_file), 10s, 50ms});
    ASSERT_TRUE(forwarder) << forwarder.error().to_string();
    httplib::Client via_relay("127.0.0.1", static_cast<int>((*forwarder)->ports().at(0)));
    via_relay.set_connection_timeout(10);
    via_relay.set_read_timeout(30);
    auto response = via_relay.Get("/index.html");
    ASSERT_TRUE(response) << httplib::to_string(response.error());
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "guest-page\n");
    auto leased = vz::nat_guest_addresses(nat, vz::lease_file(lease_file));
    ASSERT_TRUE(leased) << leased.error().to_string();
    EXPECT_EQ(*leased, (std::vector<GuestAddress>{{0, "127.0.0.1"}}));
  }
  // stdin stays open until the answer is in: busybox nc would otherwise half-close first.
  reply = run("(printf 'GET /page HTTP/1.0\\r\\nHost: 10.0.2.2\\r\\n\\r\\n'; sleep 5) | nc 10.0.2.2 " +
              std::to_string(http_port));
  EXPECT_EQ(reply.status, 0) << reply.output;
  EXPECT_THAT(reply.output, HasSubstr("vmm-http-page-body"));

  // Serial (SerialToFd): guest output out, host input in (echoed by the guest's init).
  EXPECT_EQ(run("echo serial-out-token >/dev/ttyS0").status, 0);
  EXPECT_TRUE(serial_out.wait_for("serial-out-token", 30s));
  const std::string input = "serial-in-token\n";
  ASSERT_EQ(::write(serial_host.get(), input.data(), input.size()),
            static_cast<ssize_t>(input.size()));
  EXPECT_TRUE(console.wait_for_line("VMM-INPUT serial-in-token", 60s));

  // Balloon: QEMU and the guest both see the smaller size.
  const auto mem_total_kib = [&] {
    const auto text = run("sed -n 's/^MemTotal: *\\([0-9]*\\) kB$/\\1/p' /proc/meminfo").output;
    return text.empty() ? 0L : std::stol(text);
  };
  const long before_kib = mem_total_kib();
  auto balloon = support::await((*vm)->memory_balloon());
  ASSERT_TRUE(balloon) << balloon.error().to_string();
  EXPECT_EQ(balloon->target, Size::mib(256));
  ASSERT_TRUE(balloon->actual);
  EXPECT_EQ(*balloon->actual, Size::mib(256));
  auto too_big = support::await((*vm)->set_memory_target(Size::mib(512)));
  ASSERT_FALSE(too_big);
  EXPECT_EQ(too_big.error().code(), Errc::invalid_config);
  ASSERT_TRUE(support::await((*vm)->set_memory_target(Size::mib(192))));
  EXPECT_TRUE(support::wait_until(
      [&] {
        auto now = support::await((*vm)->memory_balloon());
        return now && now->target == Size::mib(192) && now->actual == Size::mib(192);
      },
      60s));
  // The guest's total shrinks by what its balloon took (64 MiB = 65536 KiB, some slack).
  EXPECT_TRUE(support::wait_until([&] { return before_kib - mem_total_kib() > 60000; }, 60s))
      << "MemTotal before: " << before_kib << " KiB, now: " << mem_total_kib() << " KiB";

  ASSERT_TRUE(support::await((*vm)->stop(), kBoot));
  // After the stop: the bytes the guest wrote are on the host's files.
  EXPECT_EQ(read_head(rw, 14), "vmm-pattern-rw");
  EXPECT_EQ(read_head(ro, 10), std::string("ro-marker") + '\0');
  const auto qcow2_raw = dir.path() / "qcow2.raw";
  ASSERT_EQ(std::system(("qemu-img convert -O raw '" + qcow2.string() + "' '" +
                         qcow2_raw.string() + "'")
                            .c_str()),
            0);
  EXPECT_EQ(read_head(qcow2_raw, 17), "vmm-pattern-qcow2");
  // The old run's channel is closed; a new run gets a new one that works.
  EXPECT_FALSE(agent.run("true", 30s));
  ASSERT_TRUE(support::await((*vm)->start(), kBoot));
  auto again = (*vm)->console_port(support::agent_port_name);
  ASSERT_TRUE(again) << again.error().to_string();
  GuestAgent second(std::move(*again));
  auto second_reply = second.run(std::string(kFindDisk) + "head -c 14 $(disk VMMRW)", kBoot);
  ASSERT_TRUE(second_reply) << second_reply.error().to_string();
  EXPECT_EQ(second_reply->output, "vmm-pattern-rw");
  EXPECT_TRUE(support::await((*vm)->stop(), kBoot));
}

}  // namespace
}  // namespace vmm::testing

#endif
