// The Engine over VZVirtualMachine. Straight-line by design: the plan decided everything, the
// configuration builder made the objects; this file issues calls on the VM's serial queue and
// bridges completion handlers, delegate calls and KVO to the core through the EngineLink.
//
// Threading (see the reference's rules): every call on the VM and its devices is made with
// dispatch_async on `queue_`; nothing here blocks on that queue or dispatch_syncs onto it. Results
// and events are delivered on a second serial queue, so user code never runs on the VM's queue.
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

#include "config/access.hpp"
#include "machine/engine.hpp"
#include "vmm/logging.hpp"
#include "vz/console_ports.hpp"
#include "vz/console_reader.hpp"
#include "vz/engine_link.hpp"
#include "vz/plan.hpp"
#import "vz/objc/configuration_builder.h"
#import "vz/objc/host_query.h"
#import "vz/objc/objc_support.h"
#import "vz/objc/machine_devices.h"
#import "vz/objc/vz_delegates.h"
#include "vz/sdk_capabilities.h"
#include "vz/vz_errors.hpp"

namespace vmm::vz {
namespace {

// Tags each engine's VM queue with the engine, so the destructor knows when it runs on it.
char queue_key;
// How long the destructor waits for a hard stop before releasing the VM anyway.
constexpr std::int64_t stop_timeout_ns = 10 * static_cast<std::int64_t>(NSEC_PER_SEC);
// How long a caller waits for a short call on the VM's queue (listen_vsock, the save check).
constexpr std::int64_t queue_timeout_ns = 10 * static_cast<std::int64_t>(NSEC_PER_SEC);

using Done = detail::Engine::Done;
using MachineCall = void (^)(VZVirtualMachine* machine, Done finish);

// Runs `body` on `queue` and waits for its answer, for the few calls whose outcome the caller
// needs before returning. Inline when already on the queue (from a VZ callback, where `owner`
// tagged it), because waiting there would deadlock. An exception is the error; a queue that does
// not answer within queue_timeout_ns is a `timeout` error (and `body` may still run later).
Result<void> call_on_queue(dispatch_queue_t queue, const void* owner, const std::string& what,
                           std::optional<Error> (^body)(void)) {
  auto outcome = std::make_shared<std::optional<Error>>();
  dispatch_semaphore_t answered = dispatch_semaphore_create(0);
  void (^guarded)(void) = ^{
    @try {
      *outcome = body();
    } @catch (NSException* exception) {
      *outcome = objc::error_from(exception, what);
    }
    dispatch_semaphore_signal(answered);
  };
  if (dispatch_get_specific(&queue_key) == owner) {
    guarded();
  } else {
    dispatch_async(queue, guarded);
    if (dispatch_semaphore_wait(answered, dispatch_time(DISPATCH_TIME_NOW, queue_timeout_ns)) != 0) {
      return make_error(Errc::timeout,
                        what + ": the virtual machine's queue did not answer within 10 s");
    }
  }
  if (*outcome) return **outcome;
  return {};
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
  dispatch_async(queue, ^{
    @try {
      if (auto refused = save_restore_refused(configuration)) {
        finish(*refused);
        return;
      }
      [machine saveMachineStateToURL:url
                   completionHandler:^(NSError* _Nullable saveError) {
                     finish(objc::result_from(saveError, "save"));
                   }];
    } @catch (NSException* exception) {
      finish(objc::error_from(exception, "save"));
    }
  });
}

API_AVAILABLE(macos(14.0))
void restore_on_queue(dispatch_queue_t queue, VZVirtualMachine* machine,
                      VZVirtualMachineConfiguration* configuration, NSURL* url, Done finish) {
  dispatch_async(queue, ^{
    @try {
      if (auto refused = save_restore_refused(configuration)) {
        finish(*refused);
        return;
      }
      [machine restoreMachineStateFromURL:url
                        completionHandler:^(NSError* _Nullable restoreError) {
                          finish(objc::result_from(restoreError, "restore"));
                        }];
    } @catch (NSException* exception) {
      finish(objc::error_from(exception, "restore"));
    }
  });
}
#endif

Error save_unsupported() {
  return Error(Errc::unsupported,
               "save/restore needs macOS 14 or later on an Apple silicon (arm64) Mac");
}

class API_AVAILABLE(macos(13.0)) VzEngine final : public detail::Engine {
 public:
  VzEngine(VmConfig config, Plan plan, BuiltConfiguration built,
           std::unique_ptr<ConsoleReader> console)
      : config_(std::move(config)),
        plan_(std::move(plan)),
        built_(std::move(built)),
        console_(std::move(console)) {
    queue_ = dispatch_queue_create("vmm.vz.machine", DISPATCH_QUEUE_SERIAL);
    delivery_ = dispatch_queue_create("vmm.vz.delivery", DISPATCH_QUEUE_SERIAL);
    dispatch_queue_set_specific(queue_, &queue_key, this, nullptr);
    dispatch_queue_t delivery = delivery_;
    link_ = EngineLink::create([delivery](EngineLink::Task task) {
      dispatch_async(delivery, ^{
        task();
      });
    });
    machine_ = [[VZVirtualMachine alloc] initWithConfiguration:built_.configuration queue:queue_];
    observer_ = [[VmmVZMachineObserver alloc] initWithLink:link_];
    VZVirtualMachine* machine = machine_;
    VmmVZMachineObserver* observer = observer_;
    // First on the queue, before any operation can be queued behind it.
    dispatch_async(queue_, ^{
      machine.delegate = observer;
      [observer startObserving:machine];
    });
  }

  ~VzEngine() override {
    link_->close();
    const bool on_queue = dispatch_get_specific(&queue_key) == this;
    VZVirtualMachine* machine = machine_;
    VmmVZMachineObserver* observer = observer_;
    // The sockets and vmnet networks VZ may still use are released only after the VM stopped,
    // on its queue, so that no descriptor number is closed (and reused) under a live VM.
    auto resources = std::make_shared<BuiltConfiguration>(std::move(built_));
    dispatch_semaphore_t released = dispatch_semaphore_create(0);
    dispatch_async(queue_, ^{
      void (^release)(void) = ^{
        [observer stopObserving:machine];
        machine.delegate = nil;
        (void)resources;
        dispatch_semaphore_signal(released);
      };
      @try {
        if (@available(macOS 12, *)) {
          if (machine.canStop) {
            [machine stopWithCompletionHandler:^(NSError* _Nullable error) {
              (void)error;
              release();
            }];
            return;
          }
        }
      } @catch (NSException* exception) {
        vmm::logger()->warn("vz: stopping the VM on release failed: {}",
                            objc::to_std(exception.reason));
      }
      release();
    });
    // From a callback on the VM's queue the stop cannot complete while we wait: don't.
    if (!on_queue) {
      dispatch_semaphore_wait(released, dispatch_time(DISPATCH_TIME_NOW, stop_timeout_ns));
    }
    machine_ = nil;
    observer_ = nil;
    console_.reset();
  }

  VzEngine(const VzEngine&) = delete;
  VzEngine& operator=(const VzEngine&) = delete;

  std::string_view backend_name() const override { return "virtualization_framework"; }
  const VmConfig& config() const override { return config_; }
  // The plan's port: also there for on_console_line (a SerialPipePlan) when serial() is none.
  bool has_serial_port() const override { return vz::has_serial_port(plan_); }

  void set_listener(std::weak_ptr<detail::EngineListener> listener) override {
    link_->set_listener(std::move(listener));
  }

  void start(Done done) override {
    run(link_->completion(std::move(done)), "start", ^(VZVirtualMachine* machine, Done finish) {
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

  void resume(Done done) override {
    run(link_->completion(std::move(done)), "resume", ^(VZVirtualMachine* machine, Done finish) {
      [machine resumeWithCompletionHandler:^(NSError* _Nullable error) {
        finish(objc::result_from(error, "resume"));
      }];
    });
  }

  void stop(Done done) override {
    run(link_->completion(std::move(done)), "stop", ^(VZVirtualMachine* machine, Done finish) {
      if (@available(macOS 12, *)) {
        [machine stopWithCompletionHandler:^(NSError* _Nullable error) {
          finish(objc::result_from(error, "stop"));
        }];
      } else {
        finish(Error(Errc::unsupported, "a hard stop needs macOS 12 or later"));
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
    return save_unsupported();
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
    finish(save_unsupported());
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
    finish(save_unsupported());
  }

  void connect_vsock(std::uint32_t port,
                     std::function<void(Result<FileDescriptor>)> done) override {
    const std::shared_ptr<EngineLink> link = link_;
    VZVirtualMachine* machine = machine_;
    const std::string what = "vsock connection to guest port " + std::to_string(port);
    dispatch_async(queue_, ^{
      @try {
        VZVirtioSocketDevice* device = socket_device(machine);
        if (device == nil) {
          link->deliver_fd(done, Error(Errc::unsupported, what + ": this VM has no vsock device"));
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
      } @catch (NSException* exception) {
        link->deliver_fd(done, objc::error_from(exception, what));
      }
    });
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
    if (!plan_.vsock) {
      return make_error(Errc::unsupported, "listen_vsock: this VM has no vsock device");
    }
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
      if (device == nil) {
        return std::optional<Error>(Error(Errc::unsupported, what + ": this VM has no vsock device"));
      }
      [device setSocketListener:listener forPort:port];
      return std::optional<Error>();
    });
    if (!installed && installed.error().code() == Errc::timeout) {
      // The install may still run after a timeout: undo it then (the queue is serial). Other
      // failures installed nothing, and removing could drop an earlier listener on the port.
      dispatch_async(queue, ^{
        @try {
          [socket_device(machine) removeSocketListenerForPort:port];
        } @catch (NSException* exception) {
          (void)exception;
        }
        (void)listener;
        (void)acceptor;
      });
    }
    if (!installed) return installed.error();
    return Subscription([queue, machine, listener, acceptor, port] {
      dispatch_async(queue, ^{
        @try {
          [socket_device(machine) removeSocketListenerForPort:port];
        } @catch (NSException* exception) {
          vmm::logger()->warn("vz: removing the vsock listener on port {} failed: {}", port,
                              objc::to_std(exception.reason));
        }
        // Released here, on the queue, once VZ no longer knows them.
        (void)listener;
        (void)acceptor;
      });
    });
  }

 private:
  // Runs `call` on the VM's queue; an Objective-C exception there fails the operation.
  void run(Done finish, const char* what, MachineCall call) {
    VZVirtualMachine* machine = machine_;
    const std::string context(what);
    dispatch_async(queue_, ^{
      @try {
        call(machine, finish);
      } @catch (NSException* exception) {
        finish(objc::error_from(exception, context));
      }
    });
  }

  VmConfig config_;
  Plan plan_;
  BuiltConfiguration built_;
  std::unique_ptr<ConsoleReader> console_;
  dispatch_queue_t queue_ = nil;
  dispatch_queue_t delivery_ = nil;
  std::shared_ptr<EngineLink> link_;
  VZVirtualMachine* machine_ = nil;
  VmmVZMachineObserver* observer_ = nil;
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
  const HostFacts host = query_host_facts();
  auto plan = make_checked_plan(config, host,
                                PlanOptions{work_dir, static_cast<bool>(options.on_console_line), {}});
  if (!plan) return plan.error();
  auto built = build_configuration(*plan);
  if (!built) return built.error();

  VmConfig effective = config;
  if (built->generated_machine_identifier) {
    // config() then reports the identifier VZ uses, which a snapshot manifest must record.
    ConfigAccess::replace_machine_identifier(effective, *built->generated_machine_identifier);
  }
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
  return make_error(Errc::unsupported,
                    "the Virtualization.framework backend needs macOS 13 or later (this host "
                    "runs macOS " +
                        std::to_string(version.majorVersion) + "." +
                        std::to_string(version.minorVersion) + ")");
}

}  // namespace vmm::detail
