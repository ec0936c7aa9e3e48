// bench/concurrency: N VMs (default 16) created and started concurrently from one process. All
// must reach running; reports the wall time to all running and to all guests ready, and this
// process's RSS growth per VM (the library's own cost: QEMU's memory is in other processes).
//
//   concurrency --kernel vmlinuz --initrd initrd.img [--vms 16] [--memory 128MiB]
#include <vmm/format.hpp>  // fmt formatters for vmm types (opt-in)
#include <vmm/vmm.hpp>

#include "common/arguments.hpp"
#include "common/measure.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

namespace {

using vmm_bench::Clock;

// Resident set size of this process, in KiB, from /proc/self/status.
long rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      long kib = 0;
      status >> kib;
      return kib;
    }
    status.ignore(4096, '\n');
  }
  return -1;
}

double seconds_since(Clock::time_point begin) {
  return std::chrono::duration<double>(Clock::now() - begin).count();
}

}  // namespace

int main(int argc, char** argv) {
  constexpr std::string_view program = "concurrency";
  constexpr std::string_view usage =
      "concurrency --kernel FILE --initrd FILE [--vms N] [--memory SIZE]";
  auto flags = vmm_bench::parse_flags(argc, argv, program, usage,
                                      {"--kernel", "--initrd", "--vms", "--memory"});
  const std::string kernel = flags["--kernel"], initrd = flags["--initrd"];
  if (kernel.empty() || initrd.empty()) {
    vmm_bench::usage_error(program, usage, "--kernel and --initrd are required");
  }
  const int count =
      flags.count("--vms") ? vmm_bench::parse_count(program, usage, "--vms", flags["--vms"], 1, 256)
                           : 16;
  vmm::Size memory = vmm::Size::mib(128);
  if (flags.count("--memory")) {
    auto parsed = vmm::Size::parse(flags["--memory"]);
    if (!parsed) vmm_bench::usage_error(program, usage, fmt::format("--memory: {}", parsed.error()));
    memory = *parsed;
  }

  const long rss_before = rss_kib();
  std::mutex mutex;
  std::condition_variable changed;
  int running = 0, ready = 0, failed = 0;
  std::vector<std::shared_ptr<vmm::VirtualMachine>> vms;

  const auto begin = Clock::now();
  double all_running_s = 0;
  for (int i = 0; i < count; ++i) {
    auto config = vmm::VmConfig::builder()
                      .cpus(1)
                      .memory(memory)
                      .linux_boot(kernel, initrd, "console=ttyS0 quiet panic=-1")
                      .build();
    if (!config) {
      fmt::print(stderr, "config: {}\n", config.error());
      return 1;
    }
    vmm::CreateOptions options;
    options.on_console_line = [&](std::string_view line) {
      if (line != "VMM-GUEST-READY") return;
      std::lock_guard lock(mutex);
      ++ready;
      changed.notify_all();
    };
    auto vm = vmm::VirtualMachine::create(*config, options);
    if (!vm) {
      fmt::print(stderr, "create: {}\n", vm.error());
      return 1;
    }
    vms.push_back(*vm);
  }
  for (auto& vm : vms) {
    vm->start([&](vmm::Result<void> result) {
      std::lock_guard lock(mutex);
      if (result) {
        ++running;
      } else {
        ++failed;
        fmt::print(stderr, "start: {}\n", result.error());
      }
      changed.notify_all();
    });
  }
  {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return running + failed == count; });
    all_running_s = seconds_since(begin);
  }
  const long rss_running = rss_kib();
  bool all_ready = false;
  {
    std::unique_lock lock(mutex);
    all_ready = changed.wait_for(lock, std::chrono::minutes(5), [&] { return ready == count; });
  }
  const double all_ready_s = seconds_since(begin);

  fmt::print("vms={} running={} failed={} ready={}\n", count, running, failed, ready);
  fmt::print("wall_to_all_running_s={:.3f}\n", all_running_s);
  fmt::print("wall_to_all_ready_s={:.3f}{}\n", all_ready_s, all_ready ? "" : " (timed out)");
  fmt::print("rss_growth_per_vm_kib={:.1f}\n",
             static_cast<double>(rss_running - rss_before) / count);
  int stop_failures = 0;
  for (auto& vm : vms) {
    if (auto stopped = vm->stop().get(); !stopped) {
      ++stop_failures;
      fmt::print(stderr, "stop: {}\n", stopped.error());
    }
  }
  return failed == 0 && all_ready && stop_failures == 0 ? 0 : 1;
}
