// The QEMU engine (src/qemu) against real QEMU and the test guest, below VirtualMachine: each
// Engine operation, guest-initiated stops, QEMU dying, save/restore. TCG, 256 MiB, 1 vCPU.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <condition_variable>
#include <fstream>
#include <future>
#include <iterator>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "machine/engine.hpp"
#include "guest_fixture.hpp"

namespace vmm::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

// Bounds on hangs under a loaded machine or sanitizers, not performance assertions.
constexpr auto kBoot = std::chrono::milliseconds(180s);
constexpr auto kEvent = std::chrono::milliseconds(60s);

class RecordingListener : public detail::EngineListener {
 public:
  void on_guest_stopped() override {
    std::lock_guard lock(mutex_);
    ++stopped_;
    changed_.notify_all();
  }
  void on_engine_failed(Error reason) override {
    std::lock_guard lock(mutex_);
    failures_.push_back(std::move(reason));
    changed_.notify_all();
  }
  bool wait_stopped(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return stopped_ > 0; });
  }
  std::optional<Error> wait_failure(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, timeout, [&] { return !failures_.empty(); })) return std::nullopt;
    return failures_.front();
  }
  int stopped() {
    std::lock_guard lock(mutex_);
    return stopped_;
  }
  std::vector<Error> failures() {
    std::lock_guard lock(mutex_);
    return failures_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int stopped_ = 0;
  std::vector<Error> failures_;
};

// Runs one engine operation and waits (bounded) for its Done.
template <typename Op>
Result<void> await(Op op) {
  auto promise = std::make_shared<std::promise<Result<void>>>();
  auto future = promise->get_future();
  op([promise](Result<void> result) { promise->set_value(std::move(result)); });
  if (future.wait_for(kBoot) != std::future_status::ready) {
    return make_error(Errc::timeout, "the engine did not complete the operation");
  }
  return future.get();
}

// Polls `condition` (for conditions no helper can wait on) until true or `timeout`.
template <typename Condition>
bool wait_until(Condition condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

class QemuEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    assets_ = find_guest_assets();
    VMM_REQUIRE_GUEST(assets_);
  }

  void TearDown() override {
    engine_.reset();
    restored_.reset();
    EXPECT_THAT(child_qemu_pids(), ::testing::IsEmpty());
  }

  Result<std::unique_ptr<detail::Engine>> make(const VmConfigBuilder& builder,
                                               GuestConsole& console,
                                               std::shared_ptr<RecordingListener> listener) {
    auto config = builder.build();
    if (!config) return std::move(config).error();
    auto engine = detail::make_qemu_engine(*config, guest_create_options(console),
                                           dir_.path() / fmt::format("work{}", ++engines_));
    if (engine) (*engine)->set_listener(listener);
    return engine;
  }

  void boot(std::string guest_options = {}) {
    auto engine = make(guest_config(assets_, std::move(guest_options)), console_, listener_);
    ASSERT_TRUE(engine) << engine.error().to_string();
    engine_ = std::move(*engine);
    const auto begin = std::chrono::steady_clock::now();
    auto started = await([&](auto done) { engine_->start(done); });
    ASSERT_TRUE(started) << started.error().to_string();
    ASSERT_TRUE(console_.wait_for_line("VMM-GUEST-READY", kBoot)) << "the guest did not boot";
    RecordProperty("boot_ms", static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                   std::chrono::steady_clock::now() - begin)
                                                   .count()));
  }

  // The counter once the console has caught up with a paused guest: lines already in the
  // socket when the guest stopped are still delivered, so wait until none arrives for a while.
  long settled_counter(GuestConsole& console) {
    long last = console.last_counter();
    while (auto next = console.wait_counter_above(last, 1s)) last = *next;
    return last;
  }

  GuestAssets assets_;
  GuestConsole console_;
  std::shared_ptr<RecordingListener> listener_ = std::make_shared<RecordingListener>();
  std::unique_ptr<detail::Engine> engine_;
  std::unique_ptr<detail::Engine> restored_;
  TempDir dir_;
  int engines_ = 0;
};

TEST_F(QemuEngineTest, BootsToTheReadyMarkerAndStops) {
  boot();
  EXPECT_EQ(engine_->backend_name(), "qemu");
  EXPECT_EQ(child_qemu_pids().size(), 1u);
  auto stopped = await([&](auto done) { engine_->stop(done); });
  ASSERT_TRUE(stopped) << stopped.error().to_string();
  EXPECT_THAT(child_qemu_pids(), ::testing::IsEmpty());
  // A hard stop is the host's doing: neither a guest stop nor a failure is reported.
  EXPECT_EQ(listener_->stopped(), 0);
  EXPECT_THAT(listener_->failures(), ::testing::IsEmpty());
  // And the same engine boots again.
  auto again = await([&](auto done) { engine_->start(done); });
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_TRUE(wait_until([&] { return console_.count("VMM-GUEST-READY") == 2; }, kBoot))
      << "the second boot did not reach the ready marker";
}

TEST_F(QemuEngineTest, PauseFreezesTheCounterAndResumeContinuesIt) {
  boot();
  ASSERT_TRUE(console_.wait_counter_above(1, kEvent));
  auto paused = await([&](auto done) { engine_->pause(done); });
  ASSERT_TRUE(paused) << paused.error().to_string();
  const long frozen = settled_counter(console_);
  EXPECT_FALSE(console_.wait_counter_above(frozen, 1s)) << "the counter ran while paused";
  auto resumed = await([&](auto done) { engine_->resume(done); });
  ASSERT_TRUE(resumed) << resumed.error().to_string();
  EXPECT_TRUE(console_.wait_counter_above(frozen, kEvent)) << "the counter did not continue";
}

TEST_F(QemuEngineTest, RequestStopLetsTheGuestPowerOff) {
  boot();
  auto requested = await([&](auto done) { engine_->request_stop(done); });
  ASSERT_TRUE(requested) << requested.error().to_string();
  ASSERT_TRUE(listener_->wait_stopped(kEvent)) << "the guest did not power off";
  EXPECT_THAT(listener_->failures(), ::testing::IsEmpty());
  EXPECT_THAT(child_qemu_pids(), ::testing::IsEmpty());
}

TEST_F(QemuEngineTest, GuestPoweroffIsObserved) {
  boot("vmm.poweroff_after=3");
  ASSERT_TRUE(listener_->wait_stopped(kEvent)) << "the guest's poweroff was not reported";
  EXPECT_THAT(listener_->failures(), ::testing::IsEmpty());
  // Console lines are delivered before the stop is reported.
  EXPECT_TRUE(console_.wait_for_line("VMM-COUNTER 2", 0ms));
  // Stopping a machine that is already gone succeeds.
  auto stopped = await([&](auto done) { engine_->stop(done); });
  EXPECT_TRUE(stopped) << stopped.error().to_string();
}

TEST_F(QemuEngineTest, GuestPanicEndsTheMachineAsAGuestStop) {
  boot("vmm.panic_after=2");
  ASSERT_TRUE(listener_->wait_stopped(kEvent)) << "the guest's panic was not reported";
  EXPECT_THAT(listener_->failures(), ::testing::IsEmpty());
}

TEST_F(QemuEngineTest, SaveAndRestoreContinueTheGuestCounter) {
  boot();
  ASSERT_TRUE(console_.wait_counter_above(2, kEvent));
  ASSERT_TRUE(await([&](auto done) { engine_->pause(done); }));
  const long saved = settled_counter(console_);
  const auto state = dir_.path() / engine_->state_file_name();
  EXPECT_EQ(engine_->state_file_name(), "state.qemu");
  ASSERT_TRUE(engine_->check_save_support());
  auto begin = std::chrono::steady_clock::now();
  auto result = await([&](auto done) { engine_->save(state, done); });
  ASSERT_TRUE(result) << result.error().to_string();
  RecordProperty("save_ms", static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                 std::chrono::steady_clock::now() - begin)
                                                 .count()));
  EXPECT_GT(std::filesystem::file_size(state), 1024u * 1024u);

  // The saved machine still runs after the save (QEMU leaves it in postmigrate).
  auto resumed = await([&](auto done) { engine_->resume(done); });
  ASSERT_TRUE(resumed) << resumed.error().to_string();
  ASSERT_TRUE(console_.wait_counter_above(saved, kEvent));
  ASSERT_TRUE(await([&](auto done) { engine_->stop(done); }));

  // A second engine with the same config restores it, paused; resume continues the counter.
  GuestConsole restored_console;
  auto restored = make(guest_config(assets_), restored_console, listener_);
  ASSERT_TRUE(restored) << restored.error().to_string();
  restored_ = std::move(*restored);
  begin = std::chrono::steady_clock::now();
  result = await([&](auto done) { restored_->restore(state, done); });
  ASSERT_TRUE(result) << result.error().to_string();
  RecordProperty("restore_ms",
                 static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::steady_clock::now() - begin)
                                      .count()));
  result = await([&](auto done) { restored_->resume(done); });
  ASSERT_TRUE(result) << result.error().to_string();
  const auto next = restored_console.wait_counter_above(-1, kEvent);
  ASSERT_TRUE(next) << "the restored guest printed no counter";
  // It continued where it was saved instead of booting again.
  EXPECT_GT(*next, saved - 1);
  EXPECT_LE(*next, saved + 3);
  EXPECT_EQ(restored_console.count("VMM-GUEST-READY"), 0);
  EXPECT_THAT(listener_->failures(), ::testing::IsEmpty());
}

TEST_F(QemuEngineTest, RestoreOfAMissingStateFileFailsCleanly) {
  auto engine = make(guest_config(assets_), console_, listener_);
  ASSERT_TRUE(engine);
  engine_ = std::move(*engine);
  const auto result =
      await([&](auto done) { engine_->restore(dir_.path() / "missing.qemu", done); });
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), Errc::not_found);
  EXPECT_THAT(child_qemu_pids(), ::testing::IsEmpty());
}

TEST_F(QemuEngineTest, RestoreOfAGarbageStateFileFailsWithQemusReason) {
  auto engine = make(guest_config(assets_), console_, listener_);
  ASSERT_TRUE(engine);
  engine_ = std::move(*engine);
  const auto state = dir_.path() / "garbage.qemu";
  std::ofstream(state) << "this is not a migration stream";
  const auto result = await([&](auto done) { engine_->restore(state, done); });
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), Errc::backend);
  EXPECT_THAT(result.error().message(), HasSubstr("restore"));
  EXPECT_THAT(result.error().message(), HasSubstr("stderr: "));  // QEMU's own reason
  EXPECT_THAT(child_qemu_pids(), ::testing::IsEmpty());
  EXPECT_THAT(listener_->failures(), ::testing::IsEmpty());  // reported through Done only
}

TEST_F(QemuEngineTest, SaveIntoAMissingDirectoryFailsAndTheGuestGoesOn) {
  boot();
  ASSERT_TRUE(await([&](auto done) { engine_->pause(done); }));
  const auto result = await(
      [&](auto done) { engine_->save(dir_.path() / "no" / "such" / "state.qemu", done); });
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), Errc::not_found);
  EXPECT_THAT(result.error().message(), HasSubstr("state.qemu"));
  const long frozen = settled_counter(console_);
  ASSERT_TRUE(await([&](auto done) { engine_->resume(done); }));
  EXPECT_TRUE(console_.wait_counter_above(frozen, kEvent));
}

TEST_F(QemuEngineTest, SaveIntoAnUnwritableDirectoryFails) {
  // A file where the directory should be: unwritable for root too (permissions would not be).
  boot();
  ASSERT_TRUE(await([&](auto done) { engine_->pause(done); }));
  const auto not_a_dir = dir_.path() / "file";
  std::ofstream(not_a_dir) << "x";
  const auto result =
      await([&](auto done) { engine_->save(not_a_dir / "state.qemu", done); });
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), Errc::io);
  EXPECT_THAT(result.error().message(), HasSubstr("Not a directory"));
}

TEST_F(QemuEngineTest, KilledQemuIsReportedAsAnEngineFailureWithTheSignal) {
  boot();
  const auto pids = child_qemu_pids();
  ASSERT_EQ(pids.size(), 1u);
  ASSERT_EQ(::kill(pids[0], SIGKILL), 0);
  const auto failure = listener_->wait_failure(kEvent);
  ASSERT_TRUE(failure) << "the engine did not notice QEMU dying";
  EXPECT_EQ(failure->code(), Errc::backend);
  EXPECT_THAT(failure->message(), HasSubstr("QEMU exited unexpectedly: signal 9 (Killed)"));
  EXPECT_EQ(listener_->stopped(), 0);
  // An operation after the death fails instead of hanging.
  const auto paused = await([&](auto done) { engine_->pause(done); });
  EXPECT_FALSE(paused);
}

TEST_F(QemuEngineTest, OperationInFlightWhenQemuDiesCompletesWithAnError) {
  boot();
  ASSERT_TRUE(await([&](auto done) { engine_->pause(done); }));
  const auto pids = child_qemu_pids();
  ASSERT_EQ(pids.size(), 1u);
  // Stop QEMU itself (SIGSTOP) so that the save cannot finish, then kill it mid-save.
  ASSERT_EQ(::kill(pids[0], SIGSTOP), 0);
  auto promise = std::make_shared<std::promise<Result<void>>>();
  auto future = promise->get_future();
  engine_->save(dir_.path() / "state.qemu",
                [promise](Result<void> result) { promise->set_value(std::move(result)); });
  ASSERT_EQ(::kill(pids[0], SIGKILL), 0);
  ASSERT_EQ(future.wait_for(kEvent), std::future_status::ready);
  const auto result = future.get();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), Errc::backend);
  EXPECT_THAT(result.error().message(), HasSubstr("QEMU"));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "state.qemu"));
}

TEST_F(QemuEngineTest, SerialConsoleAlsoGoesToTheConfiguredFile) {
  const auto log = dir_.path() / "console.log";
  auto builder = guest_config(assets_);
  builder.serial(SerialToFile{log, false});
  auto engine = make(builder, console_, listener_);
  ASSERT_TRUE(engine) << engine.error().to_string();
  engine_ = std::move(*engine);
  ASSERT_TRUE(await([&](auto done) { engine_->start(done); }));
  ASSERT_TRUE(console_.wait_for_line("VMM-GUEST-READY", kBoot));
  ASSERT_TRUE(await([&](auto done) { engine_->stop(done); }));
  std::ifstream in(log);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(text, HasSubstr("VMM-GUEST-READY"));
}

TEST_F(QemuEngineTest, DestroyingTheEngineInsideItsOwnCallbackDoesNotDeadlock) {
  boot();
  std::promise<void> destroyed;
  engine_->pause([&](Result<void>) {
    engine_.reset();  // on the engine's worker thread
    destroyed.set_value();
  });
  ASSERT_EQ(destroyed.get_future().wait_for(kEvent), std::future_status::ready);
  // The detached worker finishes tearing QEMU down on its own; no QEMU may be left for long.
  EXPECT_TRUE(wait_until([] { return child_qemu_pids().empty(); }, kEvent));
}

// Every device the QEMU backend offers on this host, so that each argv form is checked by the
// real QEMU 7.2, not only by the unit tests: QEMU refuses unknown or malformed options at start.
TEST_F(QemuEngineTest, BootsWithDisksNetworksAShareAndVirtioDevices) {
  const auto disk = dir_.path() / "disk.img";
  std::filesystem::resize_file((std::ofstream(disk), disk), 16 * 1024 * 1024);
  DiskImage read_only;
  read_only.path = dir_.path() / "ro.img";
  std::filesystem::resize_file((std::ofstream(read_only.path), read_only.path), 1024 * 1024);
  read_only.read_only = true;
  read_only.caching = CachingMode::uncached;
  read_only.sync = SyncMode::none;
  read_only.device_id = "ro,disk";

  std::array<int, 2> frames{};
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, frames.data()), 0);
  const FileDescriptor host_end(frames[0]);
  const FileDescriptor vm_end(frames[1]);
  const auto peer = dir_.path() / "peer.sock";
  const FileDescriptor peer_socket(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", peer.c_str());
  ASSERT_EQ(::bind(peer_socket.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address),
            0);

  auto builder = guest_config(assets_);
  builder.disk(disk)
      .disk(read_only)
      .nat_network()
      .network(FileHandleNetwork{vm_end.get(), 1500})
      .network(UnixDatagramNetwork{peer, 1500})
      .entropy()
      .balloon();
  if (std::filesystem::exists("/usr/lib/qemu/virtiofsd")) {
    const auto shared = dir_.path() / "shared";
    std::filesystem::create_directories(shared);
    builder.share("shared", shared);
  }
  auto engine = make(builder, console_, listener_);
  ASSERT_TRUE(engine) << engine.error().to_string();
  engine_ = std::move(*engine);
  auto started = await([&](auto done) { engine_->start(done); });
  ASSERT_TRUE(started) << started.error().to_string();
  EXPECT_TRUE(console_.wait_for_line("VMM-GUEST-READY", kBoot));
  const auto support = engine_->check_save_support();
  if (std::filesystem::exists("/usr/lib/qemu/virtiofsd")) {
    ASSERT_FALSE(support);
    EXPECT_EQ(support.error().code(), Errc::unsupported);
    EXPECT_THAT(support.error().message(), HasSubstr("shared"));
  }
  ASSERT_TRUE(await([&](auto done) { engine_->stop(done); }));
  EXPECT_THAT(listener_->failures(), ::testing::IsEmpty());
}

// Save and restore on q35 too (a USB disk forces it; usb-storage and xHCI migrate).
TEST_F(QemuEngineTest, SaveAndRestoreOnQ35) {
  DiskImage usb;
  usb.path = dir_.path() / "usb.img";
  std::filesystem::resize_file((std::ofstream(usb.path), usb.path), 1024 * 1024);
  usb.bus = BlockBus::usb;
  auto builder = guest_config(assets_);
  builder.disk(usb);
  auto engine = make(builder, console_, listener_);
  ASSERT_TRUE(engine) << engine.error().to_string();
  engine_ = std::move(*engine);
  ASSERT_TRUE(await([&](auto done) { engine_->start(done); }));
  ASSERT_TRUE(console_.wait_counter_above(1, kBoot));
  ASSERT_TRUE(await([&](auto done) { engine_->pause(done); }));
  const long saved = settled_counter(console_);
  ASSERT_TRUE(engine_->check_save_support());
  const auto state = dir_.path() / "state.qemu";
  auto result = await([&](auto done) { engine_->save(state, done); });
  ASSERT_TRUE(result) << result.error().to_string();
  ASSERT_TRUE(await([&](auto done) { engine_->stop(done); }));

  GuestConsole restored_console;
  auto restored = make(builder, restored_console, listener_);
  ASSERT_TRUE(restored) << restored.error().to_string();
  restored_ = std::move(*restored);
  result = await([&](auto done) { restored_->restore(state, done); });
  ASSERT_TRUE(result) << result.error().to_string();
  ASSERT_TRUE(await([&](auto done) { restored_->resume(done); }));
  const auto next = restored_console.wait_counter_above(-1, kEvent);
  ASSERT_TRUE(next);
  EXPECT_GT(*next, saved - 1);
  EXPECT_LE(*next, saved + 3);
  // And the restored guest still powers off on request.
  ASSERT_TRUE(await([&](auto done) { restored_->request_stop(done); }));
  EXPECT_TRUE(listener_->wait_stopped(kEvent));
}

TEST_F(QemuEngineTest, UnsupportedFeaturesFailAtCreate) {
  if (std::filesystem::exists("/dev/vhost-vsock")) GTEST_SKIP() << "this host has vhost-vsock";
  auto builder = guest_config(assets_);
  builder.vsock();
  const auto engine = make(builder, console_, listener_);
  ASSERT_FALSE(engine);
  EXPECT_EQ(engine.error().code(), Errc::unsupported);
  EXPECT_THAT(engine.error().message(), HasSubstr("/dev/vhost-vsock"));
}

TEST_F(QemuEngineTest, MissingQemuBinaryIsNotFoundNamingThePackage) {
  auto config = guest_config(assets_).build();
  ASSERT_TRUE(config);
  auto options = guest_create_options(console_);
  options.qemu.binary = dir_.path() / "qemu-system-x86_64";
  const auto engine = detail::make_qemu_engine(*config, options, dir_.path() / "work");
  ASSERT_FALSE(engine);
  EXPECT_EQ(engine.error().code(), Errc::not_found);
  EXPECT_THAT(engine.error().message(), HasSubstr("qemu-system-x86"));
}

// Whether a VM has a vsock device is decided once, by the core, before any engine call.
TEST_F(QemuEngineTest, VsockWithoutADeviceIsRefusedBeforeTheEngine) {
  auto config = guest_config(assets_).build();
  ASSERT_TRUE(config) << config.error().to_string();
  auto vm = VirtualMachine::create(*config, guest_create_options(console_));
  ASSERT_TRUE(vm) << vm.error().to_string();
  auto future = (*vm)->connect_vsock(1024);
  ASSERT_EQ(future.wait_for(kEvent), std::future_status::ready);
  const auto connected = future.get();
  ASSERT_FALSE(connected);
  EXPECT_EQ(connected.error().code(), Errc::invalid_config);
  EXPECT_THAT(connected.error().message(), HasSubstr("no vsock device"));
  const auto listening = (*vm)->listen_vsock(1024, [](FileDescriptor) {});
  ASSERT_FALSE(listening);
  EXPECT_EQ(listening.error().code(), Errc::invalid_config);
}

}  // namespace
}  // namespace vmm::testing
