// The fixture shared by the QEMU engine tests (qemu_engine*_test.cpp): an engine made from the
// test guest's config, a listener that records what the engine reports, and a bounded wait on
// each engine operation.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "guest_fixture.hpp"
#include "machine/engine.hpp"

namespace vmm::testing::engine_tests {

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
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
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
    while (auto next = console.wait_counter_above(last, std::chrono::seconds(1))) last = *next;
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

}  // namespace vmm::testing::engine_tests
