// bench/clones: templates and clones against cold boot and today's full save/restore, in one
// run (issue 14). Reports medians over --rounds:
//   - cold boot: process start to the guest's first counter line;
//   - template save (device state only) vs full save: time and state file size;
//   - full restore to running; clone without a pool (QEMU start included) to running; clone
//     taken from a VmPool to running; the ratios of the last two to cold boot;
//   - --clones VMs cloned at once: Private_Dirty per clone's QEMU (/proc/PID/smaps_rollup) a few
//     seconds after resume, against guest RAM and against a fully restored VM.
//
//   clones --kernel vmlinuz --initrd initrd.img [--rounds 5] [--clones 16]
#include <vmm/format.hpp>  // fmt formatters for vmm types (opt-in)
#include <vmm/vmm.hpp>

#include "common/arguments.hpp"
#include "common/host_facts.hpp"
#include "common/measure.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using vmm_bench::Clock;
using vmm_bench::ms_since;

double median(std::vector<double> values) { return vmm_bench::Samples{std::move(values)}.median(); }

constexpr std::string_view program = "clones";
constexpr std::string_view usage =
    "clones --kernel FILE --initrd FILE [--rounds N] [--clones N]";
using namespace std::chrono_literals;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "clones: %s\n", what.c_str());
  std::exit(1);
}

template <typename T>
T check(vmm::Result<T> result, const char* what) {
  if (!result) die(fmt::format("{}: {}", what, result.error()));
  if constexpr (!std::is_void_v<T>) return std::move(*result);
}

// Counts the guest's counter lines.
struct Console {
  std::mutex mutex;
  std::condition_variable changed;
  int counters = 0;
  std::function<void(std::string_view)> sink() {
    return [this](std::string_view line) {
      if (line.rfind("VMM-COUNTER ", 0) != 0) return;
      std::lock_guard lock(mutex);
      ++counters;
      changed.notify_all();
    };
  }
  bool wait_for(int count, std::chrono::seconds timeout) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, timeout, [&] { return counters >= count; });
  }
};

struct Bench {
  std::string kernel, initrd;
  int rounds = 5;
  int clones = 16;
  fs::path dir;
  vmm::Size memory = vmm::Size::mib(256);

  vmm::VmConfig config() const {
    return check(vmm::VmConfig::builder()
                     .cpus(1)
                     .memory(memory)
                     .linux_boot(kernel, initrd, "console=ttyS0 quiet panic=-1")
                     .nat_network()
                     .build(),
                 "config");
  }

  static vmm::CreateOptions options(Console& console) {
    vmm::CreateOptions create;
    create.backend = vmm::Backend::qemu;
    create.on_console_line = console.sink();
    return create;
  }

  double cold_boot() const {
    Console console;
    auto vm = check(vmm::VirtualMachine::create(config(), options(console)), "create");
    const auto begin = Clock::now();
    check(vm->start().get(), "start");
    if (!console.wait_for(1, 300s)) die("cold boot: no counter line");
    const double ms = ms_since(begin);
    check(vm->stop().get(), "stop");
    return ms;
  }

  // Restores `bundle` into a new VM and resumes it: milliseconds to running.
  double restore_to_running(const fs::path& bundle, const vmm::VmConfig& saved,
                            std::shared_ptr<vmm::VirtualMachine>* keep = nullptr) const {
    // Shared with the VM's console callback: a kept VM outlives this call.
    auto console = std::make_shared<Console>();
    auto create = options(*console);
    create.on_console_line = [console, sink = console->sink()](std::string_view line) {
      sink(line);
    };
    const auto begin = Clock::now();
    auto vm = check(vmm::VirtualMachine::create(saved, create), "create");
    check(vm->restore(bundle).get(), "restore");
    check(vm->resume().get(), "resume");
    const double ms = ms_since(begin);
    if (keep != nullptr) {
      *keep = vm;
    } else {
      check(vm->stop().get(), "stop");
    }
    return ms;
  }
};

}  // namespace

int main(int argc, char** argv) {
  Bench bench;
  auto flags = vmm_bench::parse_flags(argc, argv, program, usage,
                                      {"--kernel", "--initrd", "--rounds", "--clones"});
  bench.kernel = flags["--kernel"];
  bench.initrd = flags["--initrd"];
  if (bench.kernel.empty() || bench.initrd.empty()) {
    vmm_bench::usage_error(program, usage, "--kernel and --initrd are required");
  }
  if (flags.count("--rounds")) {
    bench.rounds = vmm_bench::parse_count(program, usage, "--rounds", flags["--rounds"], 1, 1000);
  }
  if (flags.count("--clones")) {
    bench.clones = vmm_bench::parse_count(program, usage, "--clones", flags["--clones"], 1, 256);
  }
  char pattern[] = "/tmp/vmm-bench-clones-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) die("mkdtemp failed");
  bench.dir = pattern;

  // The template, and a full save of the same paused guest.
  const fs::path template_bundle = bench.dir / "template";
  const fs::path full_bundle = bench.dir / "full";
  double template_save_ms = 0, full_save_ms = 0;
  {
    Console console;
    auto create = Bench::options(console);
    create.file_backed_memory = true;
    auto vm = check(vmm::VirtualMachine::create(bench.config(), create), "create template");
    check(vm->start().get(), "start template");
    if (!console.wait_for(3, 300s)) die("template: no counter lines");
    check(vm->pause().get(), "pause");
    auto begin = Clock::now();
    check(vm->save_template(template_bundle).get(), "save_template");
    template_save_ms = ms_since(begin);
    begin = Clock::now();
    check(vm->save(full_bundle).get(), "save");
    full_save_ms = ms_since(begin);
    check(vm->stop().get(), "stop template");
  }
  const auto manifest = check(vmm::read_snapshot_manifest(template_bundle), "manifest");
  const auto full_manifest = check(vmm::read_snapshot_manifest(full_bundle), "manifest");
  const auto template_state = fs::file_size(template_bundle / manifest.state_file);
  const auto full_state = fs::file_size(full_bundle / full_manifest.state_file);
  struct stat ram {};
  ::stat((template_bundle / "memory.ram").c_str(), &ram);

  std::vector<double> cold, full_restore, clone, pooled;
  for (int r = 0; r < bench.rounds; ++r) cold.push_back(bench.cold_boot());
  for (int r = 0; r < bench.rounds; ++r) {
    full_restore.push_back(bench.restore_to_running(full_bundle, full_manifest.config));
    clone.push_back(bench.restore_to_running(template_bundle, manifest.config));
  }
  {
    vmm::VmPoolOptions pool_options;
    pool_options.size = 1;
    pool_options.create.backend = vmm::Backend::qemu;
    auto pool = check(vmm::VmPool::create(template_bundle, pool_options), "pool");
    for (int r = 0; r < bench.rounds; ++r) {
      if (!pool->wait_full(300s)) die("the pool did not fill");
      Console console;
      const auto begin = Clock::now();
      auto vm = check(pool->take(console.sink()), "take");
      pooled.push_back(ms_since(begin));
      check(vm->stop().get(), "stop");
    }
  }

  // Memory: one fully restored VM, then N clones at once, measured after they ran a while.
  long full_dirty_kib = 0;
  {
    std::shared_ptr<vmm::VirtualMachine> vm;
    bench.restore_to_running(full_bundle, full_manifest.config, &vm);
    std::this_thread::sleep_for(3s);
    for (int pid : vmm_bench::child_qemu_pids()) full_dirty_kib = vmm_bench::smaps_rollup_kib(pid, "Private_Dirty");
    check(vm->stop().get(), "stop");
  }
  std::vector<std::shared_ptr<vmm::VirtualMachine>> vms(static_cast<std::size_t>(bench.clones));
  const auto all_begin = Clock::now();
  {
    std::vector<std::future<void>> restoring;
    for (auto& vm : vms) {
      restoring.push_back(std::async(std::launch::async, [&] {
        bench.restore_to_running(template_bundle, manifest.config, &vm);
      }));
    }
    for (auto& f : restoring) f.get();
  }
  const double all_clones_ms = ms_since(all_begin);
  std::this_thread::sleep_for(3s);
  std::vector<double> dirty, rss;
  for (int pid : vmm_bench::child_qemu_pids()) {
    dirty.push_back(static_cast<double>(vmm_bench::smaps_rollup_kib(pid, "Private_Dirty")) / 1024.0);
    rss.push_back(static_cast<double>(vmm_bench::smaps_rollup_kib(pid, "Rss")) / 1024.0);
  }
  for (auto& vm : vms) check(vm->stop().get(), "stop");
  vms.clear();
  std::error_code ec;
  fs::remove_all(bench.dir, ec);

  const double guest_mib = static_cast<double>(bench.memory.as_mib());
  const double cold_ms = median(cold);
  fmt::print("guest: 256 MiB, 1 vCPU, TCG; medians of {} rounds\n\n", bench.rounds);
  fmt::print("| figure | value | against | ratio | target |\n|---|---:|---|---:|---:|\n");
  fmt::print("| cold boot to the first counter line | {:.0f} ms | | | |\n", cold_ms);
  fmt::print("| full restore to running | {:.1f} ms | cold boot | {:.3f} | |\n",
             median(full_restore), median(full_restore) / cold_ms);
  fmt::print("| clone without pool to running | {:.1f} ms | cold boot | {:.3f} | 0.1 |\n",
             median(clone), median(clone) / cold_ms);
  fmt::print("| clone from the pool to running | {:.1f} ms | cold boot | {:.3f} | 0.03 |\n",
             median(pooled), median(pooled) / cold_ms);
  fmt::print("| template save | {:.1f} ms | full save {:.1f} ms | {:.3f} | |\n", template_save_ms,
             full_save_ms, template_save_ms / full_save_ms);
  fmt::print("| template state file | {:.0f} KiB | full state file {:.1f} MiB | {:.4f} | |\n",
             static_cast<double>(template_state) / 1024.0,
             static_cast<double>(full_state) / (1 << 20),
             static_cast<double>(template_state) / static_cast<double>(full_state));
  fmt::print("| template RAM file: data | {:.1f} MiB of {:.0f} MiB | | | |\n",
             static_cast<double>(ram.st_blocks) * 512.0 / (1 << 20), guest_mib);
  fmt::print("| {} clones at once, to all running | {:.0f} ms | | | |\n", bench.clones,
             all_clones_ms);
  fmt::print("| Private_Dirty per clone (median / max) | {:.1f} / {:.1f} MiB | guest RAM | "
             "{:.3f} | 0.2 |\n",
             median(dirty), dirty.empty() ? 0.0 : *std::max_element(dirty.begin(), dirty.end()),
             median(dirty) / guest_mib);
  fmt::print("| Rss per clone (median) | {:.1f} MiB | | | |\n", median(rss));
  fmt::print("| Private_Dirty of a fully restored VM | {:.1f} MiB | guest RAM | {:.3f} | |\n",
             static_cast<double>(full_dirty_kib) / 1024.0,
             static_cast<double>(full_dirty_kib) / 1024.0 / guest_mib);
  fmt::print("\nclones measured: {} of {}\n", dirty.size(), bench.clones);
  return 0;
}
