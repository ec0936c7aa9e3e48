// The Engine over VZVirtualMachine. Straight-line by design: the plan decided everything, the
// configuration builder made the objects; this file issues calls on the VM's serial queue and
// bridges completion handlers and delegate calls to the core through the EngineLink.
//
// Threading (see the reference's rules): every call on the VM and its devices goes through
// objc::on_queue() (vm_queue.h) onto `queue_`; nothing here blocks on that queue or
// dispatch_syncs onto it. Results and events go from the VM's queue straight to the core, which
// hands them to the VM's callback thread (no user code runs on the VM's queue): an operation
// crosses two hand-offs, caller -> VM queue -> callback thread.
#import <Foundation/Foundation.h>
#import <Virtualization/Virtualization.h>

#include <dispatch/dispatch.h>
#include <fcntl.h>
#include <spdlog/logger.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "config/config_facts.hpp"
#include "machine/engine.hpp"
#include "vmm/logging.hpp"
#include "vz/console_ports.hpp"
#include "vz/console_reader.hpp"
#include "vz/engine_link.hpp"
#include "vz/isolation.hpp"
#include "vz/nat_forwarding.hpp"
#include "vz/plan.hpp"
#include "vz/requirements.hpp"
#import "vz/objc/configuration_builder.h"
#import "vz/objc/host_query.h"
#import "vz/objc/objc_support.h"
#import "vz/objc/vm_queue.h"
#import "vz/objc/machine_devices.h"
#import "vz/objc/vz_delegates.h"
#include "vz/sdk_capabilities.h"
#include "vz/vz_errors.hpp"

namespace vmm::vz {
namespace {

using objc::call_on_queue;
using objc::on_queue;

// How long the destructor waits for a hard stop before releasing the VM anyway.
constexpr std::int64_t stop_timeout_ns = 10 * static_cast<std::int64_t>(NSEC_PER_SEC);

using Done = detail::Engine::Done;
using MachineCall = void (^)(VZVirtualMachine* machine, Done finish);

// Whether the VM has a vsock device is decided once, by the core before it calls the engine
// (detail::require_vsock_device, config/config_facts.hpp); the plan then always configures one.
// A VM without the device here is the framework's inconsistency, not the caller's mistake.
Error no_socket_device(const std::string& what) {
  return Error(Errc::backend, what + ": the virtual machine has no VZVirtioSocketDevice");
}

// Save and restore exist only on arm64 and from macOS 14: their calls live in functions with that
// availability, called behind @available, so no block literal needs its own guard.
#if defined(__arm64__)
// validateSaveRestoreSupportWithError: is the authority on what can be saved; its refusal is
// `unsupported` with the framework's own words (save_restore_refusal, vz_errors.hpp).
API_AVAILABLE(macos(14.0))
std::optional<Error> save_restore_refused(VZVirtualMachineConfiguration* configuration) {
  NSError* error = nil;
  if ([configuration validateSaveRestoreSupportWithError:&error]) return std::nullopt;
  return save_restore_refusal(error != nil ? objc::to_std(error.localizedDescription) : "");
}

// Asked on the VM's queue before save or restore changes any state (check_save_support).
API_AVAILABLE(macos(14.0))
Result<void> validate_save_restore_on_queue(dispatch_queue_t queue, const void* owner,
                                            VZVirtualMachineConfiguration* configuration) {
  return call_on_queue(queue, owner, "save/restore", ^{
    return save_restore_refused(configuration);
  });
}

API_AVAILABLE(macos(14.0))
void save_on_queue(dispatch_queue_t queue, VZVirtualMachine* machine,
                   VZVirtualMachineConfiguration* configuration, NSURL* url, Done finish) {
  on_queue(
      queue, "save",
      ^{
        if (auto refused = save_restore_refused(configuration)) {
          finish(*refused);
          return;
        }
        [machine saveMachineStateToURL:url
                     completionHandler:^(NSError* _Nullable saveError) {
                       finish(objc::result_from(saveError, "save"));
                     }];
      },
      finish);
}

API_AVAILABLE(macos(14.0))
void restore_on_queue(dispatch_queue_t queue, VZVirtualMachine* machine,
                      VZVirtualMachineConfiguration* configuration, NSURL* url, Done finish) {
  on_queue(
      queue, "restore",
      ^{
        if (auto refused = save_restore_refused(configuration)) {
          finish(*refused);
          return;
        }
        [machine restoreMachineStateFromURL:url
                          completionHandler:^(NSError* _Nullable restoreError) {
                            finish(objc::result_from(restoreError, "restore"));
                          }];
      },
      finish);
}
#endif

class API_AVAILABLE(macos(13.0)) VzEngine final : public detail::Engine {
 public:
  VzEngine(VmConfig config, Plan plan, BuiltConfiguration built,
           std::unique_ptr<ConsoleReader> console)
      : config_(std::move(config)),
        plan_(std::move(plan)),
        built_(std::move(built)),
        console_(std::move(console)) {
    queue_ = objc::make_vm_queue(this);
    link_ = EngineLink::create();
    forwarding_ = NatForwarding::create(nat_networks(plan_));
    link_->set_on_run_ended([forwarding = forwarding_] { forwarding->close(); });
    machine_ = [[VZVirtualMachine alloc] initWithConfiguration:built_.configuration queue:queue_];
    delegate_ = [[VmmVZMachineDelegate alloc] initWithLink:link_];
    VZVirtualMachine* machine = machine_;
    VmmVZMachineDelegate* delegate = delegate_;
    // First on the queue, before any operation can be queued behind it.
    on_queue(queue_, "setting the virtual machine's delegate", ^{
      machine.delegate = delegate;
    });
  }

  ~VzEngine() override {
    link_->close();
    forwarding_->close();  // its relay threads are joined here: none outlives the engine
    const bool on_own_queue = objc::on_own_queue(this);
    VZVirtualMachine* machine = machine_;
    // The sockets and vmnet networks VZ may still use are released only after the VM stopped,
    // on its queue, so that no descriptor number is closed (and reused) under a live VM.
    auto resources = std::make_shared<BuiltConfiguration>(std::move(built_));
    dispatch_semaphore_t released = dispatch_semaphore_create(0);
    // Runs once, on the queue: after the stop, or at once when the VM cannot stop or the stop
    // call raised.
    void (^release)(void) = ^{
      machine.delegate = nil;
      (void)resources;
      dispatch_semaphore_signal(released);
    };
    on_queue(
        queue_, "stopping the VM on release",
        ^{
          if (@available(macOS 12, *)) {
            if (machine.canStop) {
              [machine stopWithCompletionHandler:^(NSError* _Nullable error) {
                (void)error;
                release();
              }];
              return;
            }
          }
          release();
        },
        [release](Error error) {
          vmm::logger()->warn("vz: {}", error.message());
          release();
        });
    // From a callback on the VM's queue the stop cannot complete while we wait: don't.
    if (!on_own_queue) {
      dispatch_semaphore_wait(released, dispatch_time(DISPATCH_TIME_NOW, stop_timeout_ns));
    }
    machine_ = nil;
    delegate_ = nil;
    console_.reset();
  }

  VzEngine(const VzEngine&) = delete;
  VzEngine& operator=(const VzEngine&) = delete;

  std::string_view backend_name() const override { return "virtualization_framework"; }
  Acceleration acceleration() const override { return Acceleration::hvf; }
  const VmConfig& config() const override { return config_; }
  // The plan's port: also there for on_console_line (a SerialPipePlan) when serial() is none.
  bool has_serial_port() const override { return vz::has_serial_port(plan_); }

  void set_listener(std::weak_ptr<detail::EngineListener> listener) override {
    link_->set_listener(std::move(listener));
  }

  // The NAT forwards are bound first (nat_forwarding.hpp): a host port in use fails the start.
  void start(Done done) override {
    std::shared_ptr<NatForwarding> forwarding = forwarding_;
    run(forwarding->closing_on_failure(link_->completion(std::move(done))), "start",
        ^(VZVirtualMachine* machine, Done finish) {
          if (auto opened = forwarding->open(); !opened) {
            finish(opened.error());
            return;
          }
          [machine startWithCompletionHandler:^(NSError* _Nullable error) {
            finish(objc::result_from(error, "start"));
          }];
        });
  }

  void pause(Done done) override {
    run(link_->completion(std::move(done)), "pause", ^(VZVirtualMachine* machine, Done finish) {
      [machine pauseWithCompletionHandler:^(NSError* _Nullable error) {
        finish(objc::result_from(error, "pause"));
      }];
    });
  }

  // After a restore the forwards are bound here; after a pause they are bound already.
  void resume(Done done) override {
    std::shared_ptr<NatForwarding> forwarding = forwarding_;
    run(link_->completion(std::move(done)), "resume", ^(VZVirtualMachine* machine, Done finish) {
      if (auto opened = forwarding->open(); !opened) {
        finish(opened.error());
        return;
      }
      [machine resumeWithCompletionHandler:^(NSError* _Nullable error) {
        finish(objc::result_from(error, "resume"));
      }];
    });
  }

  void stop(Done done) override {
    run(forwarding_->closing_on_success(link_->completion(std::move(done))), "stop",
        ^(VZVirtualMachine* machine, Done finish) {
          if (@available(macOS 12, *)) {
            [machine stopWithCompletionHandler:^(NSError* _Nullable error) {
              finish(objc::result_from(error, "stop"));
            }];
          } else {
            finish(needs_macos("stop", macos_for_hard_stop));
          }
        });
  }

  void request_stop(Done done) override {
    run(link_->completion(std::move(done)), "request_stop",
        ^(VZVirtualMachine* machine, Done finish) {
          NSError* error = nil;
          if ([machine requestStopWithError:&error]) {
            finish(Result<void>());
          } else {
            finish(objc::error_from(error, "request_stop"));
          }
        });
  }

  // The plan's blocker first (it names the device); then the framework's own verdict, asked on
  // the VM's queue before the core changes any state.
  Result<void> check_save_support() const override {
    if (plan_.save_blocker) return *plan_.save_blocker;
#if defined(__arm64__)
    if (@available(macOS 14, *)) {
      return validate_save_restore_on_queue(queue_, this, built_.configuration);
    }
#endif
    return save_restore_unsupported();
  }

  std::string state_file_name() const override { return "state.vzvmsave"; }

  void save(const std::filesystem::path& state_file, Done done) override {
    auto finish = link_->completion(std::move(done));
    if (plan_.save_blocker) {
      finish(*plan_.save_blocker);
      return;
    }
#if defined(__arm64__)
    if (@available(macOS 14, *)) {
      save_on_queue(queue_, machine_, built_.configuration, objc::file_url(state_file),
                    std::move(finish));
      return;
    }
#endif
    (void)state_file;
    finish(save_restore_unsupported());
  }

  void restore(const std::filesystem::path& state_file, Done done) override {
    auto finish = link_->completion(std::move(done));
    if (plan_.save_blocker) {
      finish(*plan_.save_blocker);
      return;
    }
#if defined(__arm64__)
    if (@available(macOS 14, *)) {
      restore_on_queue(queue_, machine_, built_.configuration, objc::file_url(state_file),
                       std::move(finish));
      return;
    }
#endif
    (void)state_file;
    finish(save_restore_unsupported());
  }

  void connect_vsock(std::uint32_t port,
                     std::function<void(Result<FileDescriptor>)> done) override {
    const std::shared_ptr<EngineLink> link = link_;
    VZVirtualMachine* machine = machine_;
    const std::string what = "vsock connection to guest port " + std::to_string(port);
    on_queue(
        queue_, what,
        ^{
          VZVirtioSocketDevice* device = socket_device(machine);
          if (device == nil) {
            link->deliver_fd(done, no_socket_device(what));
            return;
          }
          [device connectToPort:port
              completionHandler:^(VZVirtioSocketConnection* _Nullable connection,
                                  NSError* _Nullable error) {
                if (connection == nil) {
                  link->deliver_fd(done, objc::error_from(error, what));
                  return;
                }
                // The connection closes its own descriptor when released: hand out a duplicate.
                const int fd = ::fcntl(connection.fileDescriptor, F_DUPFD_CLOEXEC, 0);
                if (fd < 0) {
                  link->deliver_fd(done, Error(Errc::io, what + ": " + std::strerror(errno)));
                  return;
                }
                link->deliver_fd(done, fd);
              }];
        },
        [link, done](Error error) { link->deliver_fd(done, std::move(error)); });
  }

  // Per NAT network, the address macOS's DHCP server leased to its MAC (nat_forwarder.hpp).
  Result<std::vector<GuestAddress>> guest_addresses() const override {
    return forwarding_->guest_addresses();
  }

  Result<FileDescriptor> console_port(std::size_t index) override {  // the same every run
    return dup_console_port(built_.console_ports, index);
  }
  bool memory_target_in_whole_mib() const override { return true; }
  void set_memory_target(Size target, Done done) override {
    set_balloon_target_on_queue(queue_, machine_, target.as_bytes(),
                                link_->completion(std::move(done)));
  }
  void memory_balloon(std::function<void(Result<MemoryBalloonInfo>)> done) override {
    auto info = std::make_shared<Result<MemoryBalloonInfo>>(Error(Errc::cancelled, "no answer"));
    auto finish = [info, done](Result<void>) { done(std::move(*info)); };
    read_balloon_on_queue(queue_, machine_, info, link_->completion(finish));
  }

  Result<Subscription> listen_vsock(std::uint32_t port,
                                    std::function<void(FileDescriptor)> on_connection) override {
    // VZ holds the listener's delegate weakly: the acceptor lives in the Subscription.
    VmmVZVsockAcceptor* acceptor = [[VmmVZVsockAcceptor alloc] initWithLink:link_
                                                                   handler:std::move(on_connection)];
    VZVirtioSocketListener* listener = [[VZVirtioSocketListener alloc] init];
    listener.delegate = acceptor;
    VZVirtualMachine* machine = machine_;
    dispatch_queue_t queue = queue_;
    const std::string what = "listen_vsock on port " + std::to_string(port);
    // The outcome is needed before returning: a listener VZ refused must not look installed.
    auto installed = call_on_queue(queue, this, what, ^{
      VZVirtioSocketDevice* device = socket_device(machine);
      if (device == nil) return std::optional<Error>(no_socket_device(what));
      [device setSocketListener:listener forPort:port];
      return std::optional<Error>();
    });
    if (!installed && installed.error().code() == Errc::timeout) {
      // The install may still run after a timeout: undo it then (the queue is serial). Other
      // failures installed nothing, and removing could drop an earlier listener on the port.
      on_queue(queue, what + ": undoing the install after the timeout", ^{
        [socket_device(machine) removeSocketListenerForPort:port];
        (void)listener;
        (void)acceptor;
      });
    }
    if (!installed) return installed.error();
    return Subscription([queue, machine, listener, acceptor, port] {
      on_queue(queue, "removing the vsock listener on port " + std::to_string(port), ^{
        [socket_device(machine) removeSocketListenerForPort:port];
        // Released here, on the queue, once VZ no longer knows them (also after an exception).
        (void)listener;
        (void)acceptor;
      });
    });
  }

 private:
  // Runs `call` on the VM's queue; an Objective-C exception there fails the operation.
  void run(Done finish, const char* what, MachineCall call) {
    VZVirtualMachine* machine = machine_;
    on_queue(
        queue_, what,
        ^{
          call(machine, finish);
        },
        finish);
  }

  VmConfig config_;
  Plan plan_;
  BuiltConfiguration built_;
  std::unique_ptr<ConsoleReader> console_;
  dispatch_queue_t queue_ = nil;
  std::shared_ptr<EngineLink> link_;
  std::shared_ptr<NatForwarding> forwarding_;  // shared with completions and the run-ended hook
  VZVirtualMachine* machine_ = nil;
  VmmVZMachineDelegate* delegate_ = nil;  // VZ holds its delegate weakly
};

API_AVAILABLE(macos(13.0))
Result<std::unique_ptr<detail::Engine>> create_engine(const VmConfig& config,
                                                      const CreateOptions& options,
                                                      const std::filesystem::path& work_dir) {
  if (![VZVirtualMachine isSupported]) {
    return make_error(Errc::unsupported,
                      "this Mac does not support virtualization (VZVirtualMachine.isSupported is "
                      "NO; inside a VM, nested virtualization is needed)");
  }
  if (auto isolation = check_isolation(options.isolation); !isolation) return isolation.error();
  const HostFacts host = query_host_facts();
  auto plan = make_checked_plan(config, host,
                                PlanOptions{work_dir, static_cast<bool>(options.on_console_line), {}});
  if (!plan) return plan.error();
  auto built = build_configuration(*plan);
  if (!built) return built.error();

  // config() then reports the identifier VZ uses, which a snapshot manifest must record
  // (config/config_facts.hpp decides when it replaces the config's).
  VmConfig effective =
      detail::with_machine_identifier_in_use(config, built->generated_machine_identifier);
  std::unique_ptr<ConsoleReader> console;
  if (built->console_read_end) {
    auto reader = ConsoleReader::start(std::move(built->console_read_end),
                                       std::move(built->console_tee), options.on_console_line);
    if (!reader) return reader.error();
    console = std::move(*reader);
  }
  return std::unique_ptr<detail::Engine>(new VzEngine(std::move(effective), std::move(*plan),
                                                      std::move(*built), std::move(console)));
}

}  // namespace
}  // namespace vmm::vz

namespace vmm::detail {

Result<std::unique_ptr<Engine>> make_vz_engine(const VmConfig& config,
                                               const CreateOptions& options,
                                               const std::filesystem::path& work_dir) {
  if (@available(macOS 13, *)) {
    @try {
      return vz::create_engine(config, options, work_dir);
    } @catch (NSException* exception) {
      return vz::objc::error_from(exception, "creating the virtual machine");
    }
  }
  const NSOperatingSystemVersion version = NSProcessInfo.processInfo.operatingSystemVersion;
  return vz::needs_macos("the Virtualization.framework backend", vz::macos_for_backend,
                         vz::MacosVersion{static_cast<int>(version.majorVersion),
                                          static_cast<int>(version.minorVersion)});
}

}  // namespace vmm::detail
