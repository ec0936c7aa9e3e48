// snapshot-demo: boots a real VM and walks it through its whole lifecycle — start, pause, save,
// stop, restore, resume, stop — and shows that the guest's counter continues from where it was
// saved instead of starting over.
//
//   snapshot-demo --kernel build/guest/vmlinuz --initrd build/guest/initrd.img
//                 [--bundle DIR] [--memory 256MiB] [--cpus 1] [--accel auto|kvm|tcg]
//
// The guest is the test guest of scripts/guest-assets.sh: it prints VMM-GUEST-READY, then
// "VMM-COUNTER <n>" every 200 ms.
#include <vmm/format.hpp>  // fmt formatters for vmm types (opt-in)
#include <vmm/vmm.hpp>

#include "cli_args.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Options {
  std::filesystem::path kernel;
  std::filesystem::path initrd;
  std::filesystem::path bundle;
  bool keep_bundle = false;  // --bundle given: the user wants the snapshot afterwards
  vmm::Size memory = vmm::Size::mib(256);
  std::uint32_t cpus = 1;
  vmm::Acceleration acceleration = vmm::Acceleration::automatic;
  bool help = false;
};

constexpr const char* cmdline = "console=hvc0 quiet panic=-1";

void print_usage(std::FILE* to) {
  fmt::print(to,
             "usage: snapshot-demo --kernel FILE --initrd FILE [--bundle DIR] [--memory SIZE] "
             "[--cpus N] [--accel auto|kvm|tcg]\n"
             "defaults: --cpus 1, --memory 256MiB, --accel auto, no network, console on hvc0 "
             "(virtio console),\n"
             "          kernel command line \"{}\"; without --bundle the snapshot goes to a "
             "temporary directory and is deleted at the end\n",
             cmdline);
}

vmm::Result<Options> parse_options(int argc, char** argv) {
  const vmm_examples::FlagSpec spec{
      {"--kernel", "--initrd", "--bundle", "--memory", "--cpus", "--accel"}, {}};
  auto parsed = vmm_examples::parse_args(spec, argc, argv);
  if (!parsed) return std::move(parsed).error();
  Options options;
  options.help = parsed->help;
  if (options.help) return options;
  const auto bad = [](std::string message) {
    return vmm::make_error(vmm::Errc::invalid_config, std::move(message));
  };
  for (const auto& [flag, value] : parsed->flags) {
    if (flag == "--kernel") {
      options.kernel = value;
    } else if (flag == "--initrd") {
      options.initrd = value;
    } else if (flag == "--bundle") {
      options.bundle = value;
      options.keep_bundle = true;
    } else if (flag == "--memory") {
      auto size = vmm_examples::parse_size(flag, value);
      if (!size) return std::move(size).error();
      options.memory = *size;
    } else if (flag == "--cpus") {
      auto cpus = vmm_examples::parse_u32(flag, value, 1);
      if (!cpus) return std::move(cpus).error();
      options.cpus = *cpus;
    } else if (flag == "--accel") {
      if (value == "kvm") options.acceleration = vmm::Acceleration::kvm;
      else if (value == "tcg") options.acceleration = vmm::Acceleration::tcg;
      else if (value != "auto") return bad("--accel takes auto, kvm or tcg");
    }
  }
  if (options.kernel.empty() || options.initrd.empty())
    return bad("--kernel and --initrd are required");
  if (options.keep_bundle) {
    if (auto ok = vmm_examples::check_bundle_parent(options.bundle); !ok)
      return std::move(ok).error();
  } else {
    options.bundle = std::filesystem::temp_directory_path() / "vmm-snapshot-demo.bundle";
  }
  return options;
}

// What the guest has said so far, as the console callback sees it.
class GuestWatch {
 public:
  void on_line(std::string_view line) {
    std::printf("  guest | %.*s\n", static_cast<int>(line.size()), line.data());
    std::lock_guard lock(mutex_);
    if (line == "VMM-GUEST-READY") ++ready_count_;
    constexpr std::string_view prefix = "VMM-COUNTER ";
    if (line.substr(0, prefix.size()) == prefix)
      last_counter_ = std::stol(std::string(line.substr(prefix.size())));
    changed_.notify_all();
  }

  // Waits until the guest has printed READY `count` times in all.
  bool wait_ready(int count, std::chrono::seconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return ready_count_ >= count; });
  }

  // Waits for a counter line above `after`, returning it.
  std::optional<long> wait_counter_above(long after, std::chrono::seconds timeout) {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, timeout, [&] { return last_counter_ > after; })) return std::nullopt;
    return last_counter_;
  }

  long last_counter() {
    std::lock_guard lock(mutex_);
    return last_counter_;
  }
  int ready_count() {
    std::lock_guard lock(mutex_);
    return ready_count_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int ready_count_ = 0;
  long last_counter_ = -1;
};

// Runs one lifecycle step and prints how long it took; false on failure (main returns then,
// so that the VM's destructor removes its working directory).
bool step(std::string_view name, std::future<vmm::Result<void>> operation) {
  const auto begin = Clock::now();
  auto result = operation.get();
  const auto ms = std::chrono::duration<double, std::milli>(Clock::now() - begin).count();
  if (!result) {
    fmt::print("{:<8} FAILED after {:.1f} ms: {}\n", name, ms, result.error());
    return false;
  }
  fmt::print("{:<8} done in {:.1f} ms\n", name, ms);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const auto parsed = parse_options(argc, argv);
  if (!parsed) {
    fmt::print(stderr, "snapshot-demo: {}\n", parsed.error().message());
    print_usage(stderr);
    return 2;
  }
  const auto& options = *parsed;
  if (options.help) {
    print_usage(stdout);
    return 0;
  }

  auto config = vmm::VmConfig::builder()
                    .cpus(options.cpus)
                    .memory(options.memory)
                    .linux_boot(options.kernel, options.initrd, cmdline)
                    .build();
  if (!config) {
    fmt::print(stderr, "config: {}\n", config.error());
    return 1;
  }

  GuestWatch guest;
  vmm::CreateOptions create;
  create.qemu.acceleration = options.acceleration;
  create.on_console_line = [&guest](std::string_view line) { guest.on_line(line); };
  auto created = vmm::VirtualMachine::create(*config, create);
  if (!created) {
    fmt::print(stderr, "create: {}\n", created.error());
    return 1;
  }
  auto vm = *created;
  auto watch = vm->on_state_change([](const vmm::StateChange& change) {
    fmt::print("state    {} -> {}{}\n", change.from, change.to,
               change.reason ? fmt::format(" ({})", change.reason->message()) : "");
  });
  fmt::print("backend  {} ({})\n", vm->backend(), vm->acceleration());

  if (!step("start", vm->start())) return 1;
  if (!guest.wait_ready(1, 120s) || !guest.wait_counter_above(2, 60s)) {
    fmt::print("the guest did not come up\n");
    return 1;
  }
  if (!step("pause", vm->pause())) return 1;
  // Lines already on their way from the serial port before the pause may still arrive.
  std::this_thread::sleep_for(300ms);
  const long saved_at = guest.last_counter();
  fmt::print("paused   guest counter is at {}\n", saved_at);

  if (!step("save", vm->save(options.bundle))) return 1;
  if (!step("stop", vm->stop())) return 1;
  if (!step("restore", vm->restore(options.bundle))) return 1;
  if (!step("resume", vm->resume())) return 1;

  const auto next = guest.wait_counter_above(saved_at, 30s);
  const bool rebooted = guest.ready_count() > 1;
  if (!step("stop", vm->stop())) return 1;

  if (!next || rebooted) {
    fmt::print("FAIL     the guest {} after restore\n", rebooted ? "rebooted" : "printed nothing");
    return 1;
  }
  fmt::print("OK       counter continued from {} to {} after restore (no reboot)\n", saved_at, *next);
  if (options.keep_bundle) {
    fmt::print("snapshot kept in {}\n", options.bundle.string());
  } else {
    std::error_code ec;
    std::filesystem::remove_all(options.bundle, ec);
  }
  return 0;
}
