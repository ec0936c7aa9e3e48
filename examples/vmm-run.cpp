// vmm-run: boots a VM from flags or a JSON config file, streams its console to stdout, and stops
// it cleanly on Ctrl-C, on SIGTERM or after --stop-after seconds (asking the guest first, then
// stopping it hard if it does not power off in time).
//
//   vmm-run --kernel vmlinuz [--initrd initrd.img] [--cmdline "console=hvc0"] [--cpus N]
//           [--memory 512MiB] [--disk PATH[:ro]]... [--nat] [--share TAG:DIR]...
//           [--stop-after SECONDS] [--backend auto|qemu|vz] [--accel auto|kvm|tcg]
//   vmm-run --config vm.json [--stop-after SECONDS]
//   vmm-run ... --print-config     (prints the validated config as JSON and exits)
#include <vmm/format.hpp>  // fmt formatters for vmm types (opt-in)
#include <vmm/vmm.hpp>

#include "cli_args.hpp"

#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace {

using namespace std::chrono_literals;

constexpr const char* default_cmdline = "console=hvc0 panic=-1";  // the virtio console

void print_usage(std::FILE* to) {
  fmt::print(to,
             "usage: vmm-run (--kernel FILE [--initrd FILE] [--cmdline TEXT] [--cpus N] "
             "[--memory SIZE]\n"
             "                [--disk PATH[:ro]]... [--nat] [--share TAG:DIR]... | --config FILE)\n"
             "               [--stop-after SECONDS] [--backend auto|qemu|vz] "
             "[--accel auto|kvm|tcg] [--print-config]\n"
             "defaults: --cpus 2, --memory 1GiB, no network, console on hvc0 (virtio console) "
             "streamed to stdout,\n"
             "          --cmdline \"{}\", --backend auto, --accel auto, runs until the guest "
             "stops or Ctrl-C\n",
             default_cmdline);
}

struct Options {
  vmm::VmConfigBuilder builder = vmm::VmConfig::builder();
  std::optional<std::string> config_file;
  std::optional<std::chrono::seconds> stop_after;
  vmm::CreateOptions create;
  bool print_config = false;
  bool help = false;
};

const vmm_examples::FlagSpec flags{
    {"--kernel", "--initrd", "--cmdline", "--config", "--cpus", "--memory", "--disk", "--share",
     "--stop-after", "--backend", "--accel"},
    {"--nat", "--print-config"}};

vmm::Result<Options> parse_options(int argc, char** argv) {
  auto parsed = vmm_examples::parse_args(flags, argc, argv);
  if (!parsed) return std::move(parsed).error();
  Options o;
  o.help = parsed->help;
  if (o.help) return o;
  const auto bad = [](std::string message) {
    return vmm::make_error(vmm::Errc::invalid_config, std::move(message));
  };
  std::optional<std::string> kernel, initrd;
  std::string cmdline = default_cmdline;
  for (const auto& [flag, value] : parsed->flags) {
    if (flag == "--nat") o.builder.nat_network();
    else if (flag == "--print-config") o.print_config = true;
    else if (flag == "--kernel") kernel = value;
    else if (flag == "--initrd") initrd = value;
    else if (flag == "--cmdline") cmdline = value;
    else if (flag == "--config") o.config_file = value;
    else if (flag == "--cpus") {
      auto cpus = vmm_examples::parse_u32(flag, value, 1);
      if (!cpus) return std::move(cpus).error();
      o.builder.cpus(*cpus);
    } else if (flag == "--memory") {
      auto size = vmm_examples::parse_size(flag, value);
      if (!size) return std::move(size).error();
      o.builder.memory(*size);
    } else if (flag == "--disk") {
      const bool read_only = value.size() > 3 && value.ends_with(":ro");
      o.builder.disk(read_only ? value.substr(0, value.size() - 3) : value, read_only);
    } else if (flag == "--share") {
      const auto colon = value.find(':');
      if (colon == std::string::npos) return bad("--share takes TAG:DIR");
      o.builder.share(value.substr(0, colon), value.substr(colon + 1));
    } else if (flag == "--stop-after") {
      // Up to a year: a bound that keeps the wait's clock arithmetic far from overflow.
      auto seconds = vmm_examples::parse_number(flag, value, 0, 366ULL * 24 * 3600);
      if (!seconds) return std::move(seconds).error();
      o.stop_after = std::chrono::seconds(static_cast<std::chrono::seconds::rep>(*seconds));
    } else if (flag == "--backend") {
      if (value == "qemu") o.create.backend = vmm::Backend::qemu;
      else if (value == "vz") o.create.backend = vmm::Backend::virtualization_framework;
      else if (value != "auto") return bad("--backend takes auto, qemu or vz");
    } else if (flag == "--accel") {
      if (value == "kvm") o.create.qemu.acceleration = vmm::Acceleration::kvm;
      else if (value == "tcg") o.create.qemu.acceleration = vmm::Acceleration::tcg;
      else if (value != "auto") return bad("--accel takes auto, kvm or tcg");
    }
  }
  if (kernel) o.builder.linux_boot(*kernel, initrd ? std::optional<std::filesystem::path>(*initrd)
                                                   : std::nullopt, cmdline);
  if (kernel.has_value() == o.config_file.has_value()) return bad("give either --kernel or --config");
  return o;
}

vmm::Result<vmm::VmConfig> load_config(Options& o) {
  if (!o.config_file) return o.builder.build();
  return vmm_examples::load_config_file(*o.config_file);
}

// Why main should wake up: a signal, the VM stopping on its own, or --stop-after.
class Wakeup {
 public:
  void notify(std::string reason) {
    std::lock_guard lock(mutex_);
    if (!reason_) reason_ = std::move(reason);
    cv_.notify_all();
  }
  std::string wait(std::optional<std::chrono::seconds> limit) {
    std::unique_lock lock(mutex_);
    auto ready = [&] { return reason_.has_value(); };
    if (limit) {
      if (!cv_.wait_for(lock, *limit, ready)) return "--stop-after elapsed";
    } else {
      cv_.wait(lock, ready);
    }
    return *reason_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::optional<std::string> reason_;
};

}  // namespace

int main(int argc, char** argv) {
  // Block the stop signals in every thread, then take them in one thread with sigwait: no
  // work in a signal handler, and the library's threads never see them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto parsed = parse_options(argc, argv);
  if (!parsed) {
    fmt::print(stderr, "vmm-run: {}\n", parsed.error().message());
    print_usage(stderr);
    return 2;
  }
  auto& options = *parsed;
  if (options.help) {
    print_usage(stdout);
    return 0;
  }
  auto config = load_config(options);
  if (!config) {
    fmt::print(stderr, "vmm-run: {}\n", config.error());
    return 1;
  }
  if (options.print_config) {
    fmt::print("{}\n", config->to_json());
    return 0;
  }

  options.create.on_console_line = [](std::string_view line) {
    fmt::print("{}\n", line);
    std::fflush(stdout);
  };
  auto created = vmm::VirtualMachine::create(*config, options.create);
  if (!created) {
    fmt::print(stderr, "vmm-run: {}\n", created.error());
    return 1;
  }
  auto vm = *created;
  fmt::print(stderr, "vmm-run: {} backend, {} acceleration\n", vm->backend(), vm->acceleration());

  Wakeup wakeup;
  auto watch = vm->on_state_change([&wakeup](const vmm::StateChange& change) {
    fmt::print(stderr, "vmm-run: {} -> {}{}\n", change.from, change.to,
               change.reason ? fmt::format(" ({})", change.reason->message()) : "");
    if (change.to == vmm::VmState::stopped || change.to == vmm::VmState::error)
      wakeup.notify(fmt::format("the VM is {}", change.to));
  });
  std::thread signals([&] {
    int signal_number = 0;
    if (sigwait(&stop_signals, &signal_number) == 0)
      wakeup.notify(signal_number == SIGINT ? "interrupted" : "terminated");
  });
  signals.detach();  // blocked in sigwait until a signal; the process exit ends it

  if (auto started = vm->start().get(); !started) {
    fmt::print(stderr, "vmm-run: start: {}\n", started.error());
    return 1;
  }
  const auto why = wakeup.wait(options.stop_after);
  fmt::print(stderr, "vmm-run: {}\n", why);

  if (vm->state() == vmm::VmState::running) {
    // Give the guest a chance to shut down, then pull the plug.
    Wakeup stopped;
    auto on_stop = vm->on_state_change([&stopped](const vmm::StateChange& change) {
      if (change.to == vmm::VmState::stopped || change.to == vmm::VmState::error)
        stopped.notify("stopped");
    });
    auto requested = vm->request_stop().get();
    if (!requested) fmt::print(stderr, "vmm-run: request_stop: {}\n", requested.error());
    if (!requested || stopped.wait(10s) != "stopped") {
      fmt::print(stderr, "vmm-run: the guest did not power off; stopping it\n");
      if (auto r = vm->stop().get(); !r) fmt::print(stderr, "vmm-run: stop: {}\n", r.error());
    }
  }
  return vm->state() == vmm::VmState::error ? 1 : 0;
}
