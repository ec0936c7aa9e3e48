// Integration-test support: the test guest (scripts/guest-assets.sh), its console, and the QEMU
// processes this test process started.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/state_log.hpp"
#include "support/temp_dir.hpp"
#include "vmm/vmm.hpp"

namespace vmm::testing {

// Bounds on hangs when the test guest (x86_64 under TCG) boots or reports an event on a loaded
// machine or under sanitizers: not performance assertions. Tests whose guests boot slower name
// their own bound.
inline constexpr std::chrono::milliseconds kBoot{std::chrono::seconds(180)};
inline constexpr std::chrono::milliseconds kEvent{std::chrono::seconds(60)};

// Where the kernel and initrd are, or why the tests cannot run. Under CI=true a missing guest
// or QEMU is a failure, not a skip: CI must exercise the real backend.
struct GuestAssets {
  std::filesystem::path kernel;
  std::filesystem::path initrd;
  std::string missing;  // empty when usable
};
GuestAssets find_guest_assets();
// The same guest with Debian's generic kernel (VMM_GUEST_KERNEL=generic scripts/guest-assets.sh,
// in $VMM_GUEST_GENERIC_DIR, else the dir CMake was given): the cloud kernel has no USB support,
// the generic one does.
GuestAssets find_generic_guest_assets();
bool running_in_ci();

// Skips (or, under CI, fails) the current test when the guest or QEMU is missing.
#define VMM_REQUIRE_GUEST(assets)                                                       \
  do {                                                                                  \
    if (!(assets).missing.empty()) {                                                    \
      if (::vmm::testing::running_in_ci()) FAIL() << (assets).missing;                  \
      GTEST_SKIP() << (assets).missing;                                                 \
    }                                                                                   \
  } while (0)

// Collects what the guest prints, for waiting on markers and the counter.
class GuestConsole {
 public:
  void on_line(std::string_view line);
  std::function<void(std::string_view)> sink() {
    return [this](std::string_view line) { on_line(line); };
  }

  bool wait_for_line(std::string_view text, std::chrono::milliseconds timeout);
  // The first line containing `text` (e.g. the kernel's "] Linux version "), once one arrives.
  std::optional<std::string> wait_for_containing(std::string_view text,
                                             std::chrono::milliseconds timeout);
  // Waits until a counter above `after` is printed; returns it.
  std::optional<long> wait_counter_above(long after, std::chrono::milliseconds timeout);
  long last_counter();
  int count(std::string_view text);

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> lines_;
  long last_counter_ = -1;
};

// PIDs of qemu-system processes that are descendants of this process.
std::vector<int> child_qemu_pids();

// The suite's one temporary-directory class (tests/support).
using TempDir = vmm::support::TempDir;

// A config for the test guest: 1 vCPU, 256 MiB, the guest options appended to the kernel
// command line (e.g. "vmm.poweroff_after=3"). The console is the virtio console hvc0, as on
// every backend; pass "ttyS0" for the serial port.
VmConfigBuilder guest_config(const GuestAssets& assets, std::string guest_options = {},
                             std::string_view console = "hvc0");
CreateOptions guest_create_options(GuestConsole& console);

}  // namespace vmm::testing
