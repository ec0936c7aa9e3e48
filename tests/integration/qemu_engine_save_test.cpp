// The QEMU engine against real QEMU and the test guest: save and restore (on microvm and on q35),
// and the failures of both. TCG, 256 MiB, 1 vCPU.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "guest_fixture.hpp"
#include "machine/engine.hpp"
#include "qemu_engine_fixture.hpp"

namespace vmm::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using engine_tests::await;
using engine_tests::QemuEngineTest;

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

}  // namespace
}  // namespace vmm::testing
