// The QEMU engine (src/qemu) against real QEMU and the test guest, below VirtualMachine: each
// lifecycle operation, guest-initiated stops and QEMU dying. TCG, 256 MiB, 1 vCPU. Save and
// restore are in qemu_engine_save_test.cpp, devices and refusals in
// qemu_engine_devices_test.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <string>

#include "guest_fixture.hpp"
#include "machine/engine.hpp"
#include "qemu_engine_fixture.hpp"

namespace vmm::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using engine_tests::await;
using engine_tests::QemuEngineTest;
using engine_tests::wait_until;

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

}  // namespace
}  // namespace vmm::testing
