// vmm-run: a drop-in for vfkit (crc-org/vfkit). It takes vfkit's command line -- the same flags,
// bootloaders and --device forms (vmm/vfkit.hpp) -- boots the VM, streams its console to
// stdout, serves vfkit's REST API (--restful-uri), and exits when the VM stops. Ctrl-C, SIGTERM
// or --stop-after ask the guest to power off, then stop it hard if it does not.
//
//   vmm-run --kernel vmlinuz --initrd initrd.img --kernel-cmdline "console=hvc0"
//           --cpus 2 --memory 1024 --device virtio-blk,path=disk.img --device virtio-net,nat
//           --restful-uri tcp://localhost:8081
//   vmm-run --config vm.json [--restful-uri unix:///tmp/vmm.sock]
//
// vmm's own flags (vmm_extras below) come on top: --config, --backend, --accel, --stop-after,
// --no-start, --dry-run, --print-args.
#include <vmm/format.hpp>  // fmt formatters for vmm types (opt-in)
#include <vmm/vfkit.hpp>
#include <vmm/vfkit_server.hpp>
#include <vmm/vfkit_ignition.hpp>
#include <vmm/vfkit_timesync.hpp>
#include <vmm/vfkit_vsock.hpp>
#include <vmm/version.hpp>
#include <vmm/vmm.hpp>

#include "cli_args.hpp"
#include "image_run.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <stop_token>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

// vmm's flags beside vfkit's. A new extra goes here and in apply_extra().
const vmm::vfkit::ExtraFlag vmm_extras[] = {
    {"--config", true},  {"--backend", true},   {"--accel", true},       {"--stop-after", true},
    {"--no-start", false}, {"--dry-run", false}, {"--print-args", false},
    {"--metrics-every", true},
};

// --image and its companions are taken out of the command line before vfkit's grammar reads it
// (the image supplies the bootloader that grammar requires), in both "--flag VALUE" and
// "--flag=VALUE" forms.
const std::string_view image_flags[] = {"--image", "--user-data", "--image-cmdline",
                                        "--image-catalog", "--image-cache"};

struct ImageFlags {
  vmm_examples::ImageRequest request;
  std::optional<std::string> cmdline;
};

vmm::Result<ImageFlags> take_image_flags(std::vector<std::string>& args) {
  ImageFlags taken;
  std::vector<std::string> kept;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    std::optional<std::string_view> flag;
    std::optional<std::string> value;
    for (const auto candidate : image_flags) {
      if (arg == candidate) {
        flag = candidate;
        if (i + 1 >= args.size()) {
          return vmm::make_error(vmm::Errc::invalid_config, std::string(candidate) + " needs a value");
        }
        value = args[++i];
      } else if (arg.size() > candidate.size() && arg.compare(0, candidate.size(), candidate) == 0 &&
                 arg[candidate.size()] == '=') {
        flag = candidate;
        value = arg.substr(candidate.size() + 1);
      }
      if (flag) break;
    }
    if (!flag) {
      kept.push_back(arg);
      continue;
    }
    if (*flag == "--image-cmdline") taken.cmdline = *value;
    else vmm_examples::take_image_flag(taken.request, *flag, *value);
  }
  args = std::move(kept);
  return taken;
}

void print_usage(std::FILE* to) {
  fmt::print(to,
             "usage: vmm-run [vfkit flags] [vmm flags]\n"
             "vfkit flags (as crc-org/vfkit; defaults: --cpus 1, --memory 512 (MiB)):\n"
             "  --bootloader linux,kernel=F[,initrd=F][,cmdline=\"...\"] | efi,variable-store=F[,create]\n"
             "  --kernel F --initrd F --kernel-cmdline TEXT      (the legacy linux bootloader)\n"
             "  -c/--cpus N  -m/--memory MiB  -n/--nested  -d/--device DEVICE (repeatable):\n"
             "     virtio-blk|nvme|usb-mass-storage,path=F[,readonly][,deviceId=ID]\n"
             "     virtio-net,nat|fd=N|type=unixgram,path=F,vfkitMagic=off[,mac=MAC]\n"
             "     virtio-fs,sharedDir=D,mountTag=T  rosetta,mountTag=T  virtio-rng  virtio-balloon\n"
             "     virtio-serial,logFilePath=F|stdio  virtio-vsock[,port=N,socketURL=F,listen|connect]\n"
             "  --restful-uri tcp://HOST:PORT|unix:///PATH|none://  --pidfile F  --log-level debug|info|error\n"
             "  --cloud-init F,...   (user-data, meta-data, network-config: a NoCloud seed, attached read-only)\n"
             "  --timesync vsockPort=N  set the guest clock through qemu-ga on that vsock port after each resume\n"
             "  --ignition F         serve F over HTTP to the guest on vsock port 1024 (Ignition)\n"
             "vmm flags:\n"
             "  --config FILE        the machine as vmm JSON instead of vfkit's machine flags\n"
             "  --backend auto|qemu|vz  --accel auto|kvm|tcg  (defaults: auto)\n"
             "  --stop-after SECONDS power the guest off after SECONDS (default: run until it stops)\n"
             "  --no-start           serve the REST API without starting (for POST /vm/restore)\n"
             "  --dry-run            print the validated machine as vmm JSON and exit\n"
             "  --print-args         print the machine as canonical vfkit arguments, one per line\n"
             "  --metrics-every SECONDS  print VirtualMachine::metrics() as JSON on stderr this often\n"
             "  --image NAME[:ARCH]  download, verify, cache and clone a catalog image and boot it\n"
             "                       (instead of a bootloader; with --user-data FILE (a NoCloud seed),\n"
             "                       --image-cmdline TEXT, --image-catalog FILE..., --image-cache DIR)\n"
             "  -h/--help  -v/--version\n"
             "The guest console (hvc0) is streamed to stdout.\n");
}

struct Extras {
  std::optional<std::string> config_file;
  std::optional<std::chrono::seconds> stop_after;
  vmm::CreateOptions create;
  bool no_start = false, dry_run = false, print_args = false;
  std::optional<std::chrono::seconds> metrics_every;  // --metrics-every
};

vmm::Result<void> apply_extra(const std::string& flag, const std::string& value, Extras& e) {
  const auto bad = [](std::string message) { return vmm::make_error(vmm::Errc::invalid_config, std::move(message)); };
  if (flag == "--config") e.config_file = value;
  else if (flag == "--no-start") e.no_start = true;
  else if (flag == "--dry-run") e.dry_run = true;
  else if (flag == "--print-args") e.print_args = true;
  else if (flag == "--metrics-every") {
    auto seconds = vmm_examples::parse_number(flag, value, 1, 366ULL * 24 * 3600);
    if (!seconds) return std::move(seconds).error();
    e.metrics_every = std::chrono::seconds(static_cast<std::chrono::seconds::rep>(*seconds));
  } else if (flag == "--stop-after") {
    // Up to a year: a bound that keeps the wait's clock arithmetic far from overflow.
    auto seconds = vmm_examples::parse_number(flag, value, 0, 366ULL * 24 * 3600);
    if (!seconds) return std::move(seconds).error();
    e.stop_after = std::chrono::seconds(static_cast<std::chrono::seconds::rep>(*seconds));
  } else if (flag == "--backend") {
    if (value == "qemu") e.create.backend = vmm::Backend::qemu;
    else if (value == "vz") e.create.backend = vmm::Backend::virtualization_framework;
    else if (value != "auto") return bad("--backend takes auto, qemu or vz, not " + value);
  } else if (flag == "--accel") {
    if (value == "kvm") e.create.qemu.acceleration = vmm::Acceleration::kvm;
    else if (value == "tcg") e.create.qemu.acceleration = vmm::Acceleration::tcg;
    else if (value != "auto") return bad("--accel takes auto, kvm or tcg, not " + value);
  }
  return {};
}

vmm::Result<void> write_pidfile(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return vmm::make_error(vmm::Errc::io, "--pidfile: cannot write " + path.string());
  const auto pid = std::to_string(::getpid());
  const bool ok = ::write(fd, pid.data(), pid.size()) == static_cast<ssize_t>(pid.size());
  ::close(fd);
  if (!ok) return vmm::make_error(vmm::Errc::io, "--pidfile: cannot write " + path.string());
  return {};
}

void set_log_level(std::optional<vmm::vfkit::LogLevel> level) {
  auto logger = spdlog::stderr_color_mt("vmm");
  using L = vmm::vfkit::LogLevel;
  logger->set_level(!level ? spdlog::level::warn
                    : *level == L::debug ? spdlog::level::debug
                    : *level == L::info  ? spdlog::level::info
                                         : spdlog::level::err);
  vmm::set_logger(logger);
}

// Why main should wake up: a signal, the VM stopping, or --stop-after.
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

// Asks the guest to power off, then pulls the plug if it has not within 10 s.
void shut_down(vmm::VirtualMachine& vm) {
  if (vm.state() != vmm::VmState::running) return;
  Wakeup stopped;
  auto on_stop = vm.on_state_change([&stopped](const vmm::StateChange& change) {
    if (change.to == vmm::VmState::stopped || change.to == vmm::VmState::error) stopped.notify("stopped");
  });
  auto requested = vm.request_stop().get();
  if (!requested) fmt::print(stderr, "vmm-run: request_stop: {}\n", requested.error());
  if (!requested || stopped.wait(10s) != "stopped") {
    fmt::print(stderr, "vmm-run: the guest did not power off; stopping it\n");
    if (auto r = vm.stop().get(); !r) fmt::print(stderr, "vmm-run: stop: {}\n", r.error());
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Block the stop signals in every thread, then take them in one thread with sigwait: no
  // work in a signal handler, and the library's threads never see them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::vector<std::string> args(argv + 1, argv + argc);
  Extras extras;
  const auto parse = [&] {
    extras = Extras{};
    auto result = vmm::vfkit::parse_command_line(args, vmm_extras);
    if (result)
      for (const auto& [flag, value] : result->extras)
        if (auto applied = apply_extra(flag, value, extras); !applied) result = std::move(applied).error();
    return result;
  };
  auto image = take_image_flags(args);
  if (!image) {
    fmt::print(stderr, "vmm-run: {}\n(vmm-run --help shows the flags)\n", image.error().message());
    return 2;
  }
  const auto names_machine = [&] {
    for (const auto& arg : args)
      for (const std::string_view flag : {"--config", "--bootloader", "--kernel"})
        if (arg == flag || arg.rfind(std::string(flag) + "=", 0) == 0) return true;
    return false;
  };
  if (!image->request.spec && (image->request.user_data || image->cmdline)) {
    fmt::print(stderr, "vmm-run: --user-data and --image-cmdline go with --image\n");
    return 2;
  }
  if (image->request.spec && names_machine()) {
    fmt::print(stderr, "vmm-run: --image: give the machine as --image, a bootloader or --config, only one\n");
    return 2;
  }
  // --image and --cloud-init become vfkit arguments (a bootloader, disks, a seed device) for
  // files made in this run's directory, removed when vmm-run ends.
  vmm_examples::ImageRun run_files;
  const auto run_directory = [&]() -> vmm::Result<void> {
    if (!run_files.directory_.empty()) return {};
    auto made = vmm_examples::make_run_directory();
    if (!made) return std::move(made).error();
    run_files = std::move(*made);
    return {};
  };
  if (image->request.spec) {
    auto image_args = run_directory().and_then([&] {
      return vmm_examples::prepare_image_args(image->request, image->cmdline, run_files);
    });
    if (!image_args) {
      fmt::print(stderr, "vmm-run: {}\n", image_args.error().message());
      return image_args.error().code() == vmm::Errc::not_found ? 2 : 1;
    }
    args.insert(args.end(), image_args->begin(), image_args->end());
  }
  auto parsed = parse();
  if (parsed && !parsed->help && !parsed->version && !parsed->settings.cloud_init.empty()) {
    auto device = run_directory().and_then(
        [&] { return vmm_examples::cloud_init_device(parsed->settings.cloud_init, run_files); });
    if (!device) {
      fmt::print(stderr, "vmm-run: {}\n", device.error().message());
      return 1;
    }
    // The seed is a device now: read the flags again without --cloud-init.
    std::vector<std::string> kept;
    for (std::size_t i = 0; i < args.size(); ++i) {
      if (args[i] == "--cloud-init") ++i;
      else if (args[i].rfind("--cloud-init=", 0) != 0) kept.push_back(args[i]);
    }
    args = std::move(kept);
    args.insert(args.end(), {"--device", *device});
    parsed = parse();
  }
  if (parsed && !parsed->help && !parsed->version && parsed->config.has_value() == extras.config_file.has_value())
    parsed = vmm::make_error(vmm::Errc::invalid_config,
                             extras.config_file ? "--config: give the machine either as vfkit flags or as --config, not both"
                                                : "no machine: give --bootloader (or --kernel, --initrd and --kernel-cmdline), or --config FILE");
  if (!parsed) {
    fmt::print(stderr, "vmm-run: {}\n(vmm-run --help shows the flags)\n", parsed.error().message());
    return 2;
  }
  if (parsed->help) {
    print_usage(stdout);
    return 0;
  }
  if (parsed->version) {
    fmt::print("vmm-run version: {}\n", vmm::version_string);
    return 0;
  }
  const auto& settings = parsed->settings;
  auto config = extras.config_file ? vmm_examples::load_config_file(*extras.config_file)
                                   : vmm::Result<vmm::VmConfig>(std::move(*parsed->config));
  if (!config) {
    fmt::print(stderr, "vmm-run: {}\n", config.error());
    return 1;
  }
  if (extras.print_args) {
    auto list = vmm::vfkit::to_command_line(*config, settings);
    if (!list) {
      fmt::print(stderr, "vmm-run: {}\n", list.error());
      return 1;
    }
    for (const auto& arg : *list) fmt::print("{}\n", arg);
    return 0;
  }
  if (extras.dry_run) {
    fmt::print("{}\n", config->to_json());
    return 0;
  }
  if (extras.no_start && settings.rest.scheme == vmm::vfkit::RestEndpoint::Scheme::none) {
    fmt::print(stderr, "vmm-run: --no-start needs --restful-uri (nothing could start the VM)\n");
    return 2;
  }
  if (extras.no_start && !settings.vsock_exposures.empty()) {
    fmt::print(stderr, "vmm-run: unsupported: virtio-vsock socketURL= with --no-start (ports are exposed at start)\n");
    return 2;
  }
  set_log_level(settings.log_level);
  if (settings.pidfile)
    if (auto written = write_pidfile(*settings.pidfile); !written) {
      fmt::print(stderr, "vmm-run: {}\n", written.error());
      return 1;
    }

  extras.create.on_console_line = [](std::string_view line) {
    fmt::print("{}\n", line);
    std::fflush(stdout);
  };
  auto created = vmm::VirtualMachine::create(*config, extras.create);
  if (!created) {
    fmt::print(stderr, "vmm-run: {}\n", created.error());
    return 1;
  }
  auto vm = *created;
  fmt::print(stderr, "vmm-run: {} backend, {} acceleration\n", vm->backend(), vm->acceleration());

  // The VM stopping ends vmm-run, once it has run (a failed restore leaves it stopped and
  // serving, so that another restore can be tried).
  Wakeup wakeup;
  std::atomic<bool> has_run{false};
  auto watch = vm->on_state_change([&](const vmm::StateChange& change) {
    fmt::print(stderr, "vmm-run: {} -> {}{}\n", change.from, change.to,
               change.reason ? fmt::format(" ({})", change.reason->message()) : "");
    if (change.to == vmm::VmState::running || change.to == vmm::VmState::paused) has_run = true;
    if (change.to == vmm::VmState::error || (change.to == vmm::VmState::stopped && has_run))
      wakeup.notify(fmt::format("the VM is {}", change.to));
  });
  // --timesync: the guest clock after each resume (vmm/vfkit_timesync.hpp); before the REST
  // server, which can resume the VM, and gone before the VM.
  std::unique_ptr<vmm::vfkit::TimeSync> timesync;
  if (settings.timesync_vsock_port) timesync = vmm::vfkit::TimeSync::start(*vm, *settings.timesync_vsock_port);
  // --ignition: listened for from before the start, so that Ignition early in the guest's boot
  // finds it (vmm/vfkit_ignition.hpp).
  std::unique_ptr<vmm::vfkit::IgnitionServer> ignition;
  if (settings.ignition) {
    auto server = vmm::vfkit::IgnitionServer::start(*settings.ignition, vmm::vfkit::GuestVsock::of(vm));
    if (!server) {
      fmt::print(stderr, "vmm-run: {}\n", server.error());
      return 1;
    }
    ignition = std::move(*server);
  }
  std::unique_ptr<vmm::vfkit::RestServer> rest;
  if (settings.rest.scheme != vmm::vfkit::RestEndpoint::Scheme::none) {
    auto server = vmm::vfkit::RestServer::start(settings.rest, vm);
    if (!server) {
      fmt::print(stderr, "vmm-run: {}\n", server.error());
      return 1;
    }
    rest = std::move(*server);
    fmt::print(stderr, "vmm-run: serving the REST API on {}\n", vmm::vfkit::to_string(settings.rest));
  }
  std::thread signals([&] {
    int signal_number = 0;
    if (sigwait(&stop_signals, &signal_number) == 0)
      wakeup.notify(signal_number == SIGINT ? "interrupted" : "terminated");
  });
  signals.detach();  // blocked in sigwait until a signal; the process exit ends it

  if (!extras.no_start)
    if (auto started = vm->start().get(); !started) {
      fmt::print(stderr, "vmm-run: start: {}\n", started.error());
      return 1;
    }
  // --metrics-every: one line of VirtualMachine::metrics() on stderr per period (as JSON after
  // "vmm-run: metrics "), until vmm-run ends; the jthread is stopped and joined before the VM goes.
  std::jthread metrics_printer;
  if (extras.metrics_every) {
    metrics_printer = std::jthread([&vm, every = *extras.metrics_every](std::stop_token stop) {
      std::mutex mutex;
      std::condition_variable_any cv;
      std::unique_lock lock(mutex);
      for (;;) {
        cv.wait_for(lock, stop, every, [] { return false; });  // wakes early only on stop
        if (stop.stop_requested()) return;
        fmt::print(stderr, "vmm-run: metrics {}\n", vm->metrics().to_json());
      }
    });
  }
  // vfkit exposes vsock ports once the VM runs; one that cannot be exposed stops the run.
  std::vector<std::unique_ptr<vmm::vfkit::VsockBridge>> bridges;
  bool exposure_failed = false;
  for (const auto& exposure : settings.vsock_exposures) {
    auto bridge = vmm::vfkit::VsockBridge::start(exposure, vmm::vfkit::GuestVsock::of(vm));
    if (!bridge) {
      fmt::print(stderr, "vmm-run: {}\n", bridge.error());
      exposure_failed = true;
      wakeup.notify("a vsock port could not be exposed");
      break;
    }
    fmt::print(stderr, "vmm-run: exposing vsock port {} on {}{}\n", exposure.port, exposure.socket.string(),
               exposure.listen ? " (listening)" : "");
    bridges.push_back(std::move(*bridge));
  }
  const auto why = wakeup.wait(extras.stop_after);
  fmt::print(stderr, "vmm-run: {}\n", why);
  shut_down(*vm);
  bridges.clear();
  rest.reset();  // the API goes with the VM
  timesync.reset();
  ignition.reset();
  return exposure_failed || vm->state() == vmm::VmState::error ? 1 : 0;
}
