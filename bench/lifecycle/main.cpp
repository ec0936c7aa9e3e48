// bench/lifecycle: what vmm adds to each lifecycle operation, measured against a baseline that
// drives the same QEMU binary with the same arguments directly, in the same run.
//
//   lifecycle --kernel vmlinuz --initrd initrd.img [--rounds 5] [--pause-iterations 20]
//
// The baseline does what vmm's QEMU engine (src/qemu/) does, minus vmm: argv from
// vmm::qemu::build_qemu_command_line plus the same confinement flags (same host facts from
// probe_host, QMP and console as socketpairs on child fds 3 and 4), posix_spawn, a minimal
// blocking QMP client (raw_qmp.*: greeting, qmp_capabilities, migrate-set-capabilities
// events=on, then commands; getfd with SCM_RIGHTS), a console reader thread for the guest's
// marker, save via getfd + migrate fd: and the MIGRATION event, restore via -S -incoming defer +
// migrate-incoming fd: + cont, stop via quit + exit (rounds.cpp). Rounds alternate (vmm,
// baseline, vmm, baseline, ...) so that drift hits both alike.
//
// The guest is the test guest of scripts/guest-assets.sh: "VMM-GUEST-READY", then
// "VMM-COUNTER n" every 200 ms. Every wait is bounded; a failure prints what failed and exits 1;
// QEMU processes and temporary files do not outlive the program.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <thread>
#include <vmm/format.hpp>  // fmt formatters for vmm types (opt-in)
#include <vmm/vmm.hpp>

#include "common/arguments.hpp"
#include "common/failure.hpp"
#include "common/host_facts.hpp"
#include "common/measure.hpp"
#include "lifecycle/handoff.hpp"
#include "lifecycle/interrupts.hpp"
#include "lifecycle/rounds.hpp"
#include "qemu/command_line.hpp"
#include "qemu/confinement.hpp"
#include "qemu/host.hpp"

namespace {

namespace fs = std::filesystem;
using namespace lifecycle;
using vmm_bench::Clock;
using vmm_bench::fail;
using vmm_bench::first_line_of;
using vmm_bench::format_ms;
using vmm_bench::load_average;
using vmm_bench::measure_thread_handoff;
using vmm_bench::ms_between;

constexpr std::string_view program = "lifecycle";
constexpr std::string_view usage =
    "lifecycle --kernel FILE --initrd FILE [--rounds N] [--pause-iterations N]";

std::string cell(const Samples& s) {
  return fmt::format("{} ({}–{})", format_ms(s.median()), format_ms(s.min()), format_ms(s.max()));
}

Options parse_options(int argc, char** argv) {
  auto flags = vmm_bench::parse_flags(argc, argv, program, usage,
                                      {"--kernel", "--initrd", "--rounds", "--pause-iterations"});
  Options options;
  options.kernel = flags["--kernel"];
  options.initrd = flags["--initrd"];
  if (options.kernel.empty() || options.initrd.empty()) {
    vmm_bench::usage_error(program, usage, "--kernel and --initrd are required");
  }
  if (flags.count("--rounds")) {
    options.rounds = vmm_bench::parse_count(program, usage, "--rounds", flags["--rounds"], 1, 1000);
  }
  if (flags.count("--pause-iterations")) {
    options.pause_iterations = vmm_bench::parse_count(program, usage, "--pause-iterations",
                                                      flags["--pause-iterations"], 1, 100000);
  }
  std::error_code ec;
  for (const auto& file : {options.kernel, options.initrd}) {
    if (!fs::is_regular_file(file, ec)) {
      vmm_bench::usage_error(program, usage, fmt::format("{} is not a file", file.string()));
    }
  }
  return options;
}

int run(const Options& options) {
  TempDir dir;
  const std::string load_at_start = load_average();
  vmm::CreateOptions create;
  create.backend = vmm::Backend::qemu;
  auto host = vmm::qemu::probe_host(create.qemu);
  if (!host) fail("probe_host: {}", host.error());

  std::vector<std::unique_ptr<Machine>> machines;
  for (const Size& size :
       {Size{"256 MiB", vmm::Size::mib(256)}, Size{"1 GiB", vmm::Size::gib(1)}}) {
    auto m = std::make_unique<Machine>();
    m->size = size;
    auto config = vmm::VmConfig::builder()
                      .cpus(1)
                      .memory(size.memory)
                      .linux_boot(options.kernel, options.initrd, "console=ttyS0 quiet panic=-1")
                      .build();
    if (!config) fail("config: {}", config.error());
    vmm::CreateOptions vm_options = create;
    vm_options.working_directory = dir.path() / ("vmm-work-" + std::to_string(machines.size()));
    GuestLines* guest = &m->vmm_guest;
    vm_options.on_console_line = [guest](std::string_view line) {
      guest->on_line(line, Clock::now());
    };
    auto vm = vmm::VirtualMachine::create(*config, vm_options);
    if (!vm) fail("vmm create: {}", vm.error());
    m->vm = *vm;
    // The same config vmm runs (with its machine identifier), the same host facts and fds.
    vmm::qemu::QemuRuntimePaths paths;
    paths.qmp_fd = 3;
    paths.console_fd = 4;
    auto command_line = vmm::qemu::build_qemu_command_line(m->vm->config(), *host, paths);
    if (!command_line) fail("build_qemu_command_line: {}", command_line.error());
    m->base_argv = command_line->argv;
    // vmm appends its confinement flags (the seccomp sandbox by default) to QEMU's argv; the
    // baseline runs with the same ones, so that both sides run the same QEMU.
    auto confinement = vmm::qemu::plan_confinement(create.isolation, host->binary);
    if (!confinement) fail("plan_confinement: {}", confinement.error());
    m->base_argv.insert(m->base_argv.end(), confinement->begin(), confinement->end());
    machines.push_back(std::move(m));
  }

  Results results;
  for (int round = 0; round < options.rounds; ++round) {
    for (int side = 0; side < 2; ++side) {
      for (std::size_t i = 0; i < machines.size(); ++i) {
        const auto begin = Clock::now();
        if (side == 0) {
          vmm_round(*machines[i], dir.path(), results, options, i == 0);
        } else {
          base_round(*machines[i], dir.path(), results, options, i == 0);
        }
        std::fprintf(stderr, "round %d/%d %s %s: %.1f s\n", round + 1, options.rounds,
                     side == 0 ? "vmm" : "baseline", machines[i]->size.label.c_str(),
                     std::chrono::duration<double>(Clock::now() - begin).count());
      }
    }
  }
  machines.clear();  // vmm's VMs (stopped) released here

  fmt::print(
      "Lifecycle: vmm vs. QEMU driven directly (same argv, raw QMP); {} rounds, "
      "alternating vmm/baseline; pause and resume: median of {} calls per round (20 ms apart).\n\n",
      options.rounds, options.pause_iterations);
  fmt::print("| operation | vmm median (min–max) | baseline median (min–max) | ratio |\n");
  fmt::print("| --- | ---: | ---: | ---: |\n");
  for (const auto& op : results.order) {
    if (op.rfind("state file MiB", 0) == 0 || op.rfind("read state file", 0) == 0 ||
        op.rfind("fsync", 0) == 0) {
      continue;
    }
    const auto& s = results.ops[op];
    fmt::print("| {} | {} | {} | {:.3f} |\n", op, cell(s[0]), cell(s[1]),
               s[0].median() / s[1].median());
  }
  fmt::print(
      "\nState file (read with read() into a discarded buffer, page cache warm, as restore "
      "finds it):\n\n");
  fmt::print(
      "| guest | state file (vmm / baseline) | read time median (min–max) | read rate | "
      "restore ÷ read (vmm / baseline) | baseline fsync after save |\n");
  fmt::print("| --- | ---: | ---: | ---: | ---: | ---: |\n");
  for (const auto& m : {"256 MiB", "1 GiB"}) {
    const std::string sz = m;
    auto& sizes = results.ops["state file MiB, " + sz];
    auto& reads = results.ops["read state file, " + sz];
    Samples all;
    for (const auto& side : reads) {
      for (double v : side.values) all.add(v);
    }
    const double mib = (sizes[0].median() + sizes[1].median()) / 2;
    auto& restore = results.ops["restore to running, " + sz];
    fmt::print("| {} | {:.1f} / {:.1f} MiB | {} | {:.0f} MiB/s | {:.1f} / {:.1f} | {} |\n", sz,
               sizes[0].median(), sizes[1].median(), cell(all), mib / (all.median() / 1000),
               restore[0].median() / all.median(), restore[1].median() / all.median(),
               cell(results.ops["fsync state file (baseline only), " + sz][1]));
  }
  fmt::print(
      "\nMachine: {}; {} CPUs, {}; {}; acceleration {}; load average {} at start, {} at "
      "end.\n",
      first_line_of("qemu-system-x86_64 --version"), std::thread::hardware_concurrency(),
      first_line_of("sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo"),
      first_line_of("uname -sr"), vmm::to_string(host->acceleration), load_at_start,
      load_average());
  fmt::print("Targets: ratio <= 1.03 for boot, pause and resume; <= 1.05 for save and restore.\n");
  // The floor under pause and resume: the reply is read on the engine's worker, which wakes the
  // caller's future; the baseline's caller reads its reply itself.
  const Samples same_cpu = measure_thread_handoff(200, vmm_bench::Handoff::same_cpu);
  const Samples other_cpu = measure_thread_handoff(200, vmm_bench::Handoff::other_cpu);
  fmt::print(
      "One thread hand-off here (a promise set on one thread until its waiting thread runs; "
      "vmm's pause and resume cross one more than the baseline): median {} ({}–{}) when the "
      "waiter may take the setter's CPU, {} ({}–{}) when it sleeps on another CPU while the "
      "setter runs on.\n",
      format_ms(same_cpu.median()), format_ms(same_cpu.min()), format_ms(same_cpu.max()),
      format_ms(other_cpu.median()), format_ms(other_cpu.min()), format_ms(other_cpu.max()));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const auto options = parse_options(argc, argv);
  start_signal_thread();  // before any other thread, so that all inherit the blocked mask
  try {
    return run(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lifecycle: FAILED: %s\n", e.what());
    return 1;
  }
}
