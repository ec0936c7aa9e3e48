// The thread model against QEMU: console lines, observers and completions all run on the VM's
// one callback thread.
#include <gtest/gtest.h>

#include <future>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "guest_fixture.hpp"

namespace vmm::testing {
namespace {

using namespace std::chrono_literals;

TEST(ThreadModel, ConsoleLinesObserversAndCompletionsShareTheCallbackThread) {
  const auto assets = find_guest_assets();
  VMM_REQUIRE_GUEST(assets);
  std::mutex mutex;
  std::map<std::string, std::set<std::thread::id>> threads;
  const auto record = [&](const std::string& kind) {
    std::lock_guard lock(mutex);
    threads[kind].insert(std::this_thread::get_id());
  };

  GuestConsole console;
  auto options = guest_create_options(console);
  options.on_console_line = [&, sink = console.sink()](std::string_view line) {
    record("console line");
    sink(line);
  };
  auto config = guest_config(assets).build();
  ASSERT_TRUE(config) << config.error().to_string();
  auto vm = VirtualMachine::create(*config, options);
  ASSERT_TRUE(vm) << vm.error().to_string();
  auto observing = (*vm)->on_state_change([&](const StateChange&) { record("observer"); });
  std::promise<void> started;
  (*vm)->start([&](Result<void> result) {
    EXPECT_TRUE(result) << result.error().to_string();
    record("completion");
    started.set_value();
  });
  ASSERT_EQ(started.get_future().wait_for(180s), std::future_status::ready);
  ASSERT_TRUE(console.wait_for_line("VMM-GUEST-READY", 180s)) << "the guest did not boot";
  ASSERT_TRUE((*vm)->stop().get());
  vm->reset();

  std::lock_guard lock(mutex);
  ASSERT_EQ(threads.size(), 3u);
  std::set<std::thread::id> all;
  for (const auto& [kind, ids] : threads) {
    EXPECT_EQ(ids.size(), 1u) << kind << " ran on several threads";
    all.insert(ids.begin(), ids.end());
  }
  EXPECT_EQ(all.size(), 1u) << "console lines, observers and completions used different threads";
  EXPECT_EQ(all.count(std::this_thread::get_id()), 0u);
}

}  // namespace
}  // namespace vmm::testing
