// vmm internal: the seam between the portable VirtualMachine core and a backend.
//
// The core (src/machine/virtual_machine.cpp) owns the state machine: it checks every transition before
// calling the engine, runs one operation at a time, and turns engine results and events into
// state changes and completions. An engine only acts: it performs the operation it is asked for
// and reports the outcome exactly once through `Done`, on any thread, never while holding a lock
// that the core might need. It never calls Done synchronously from inside the call that
// received it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "vmm/config.hpp"
#include "vmm/error.hpp"
#include "vmm/file_descriptor.hpp"
#include "vmm/virtual_machine.hpp"

namespace vmm::detail {

// What an engine reports without being asked. Called on an engine thread, no engine lock held.
class EngineListener {
 public:
  virtual ~EngineListener() = default;
  // The guest turned the machine off (poweroff; a panic or reset with panic=-1 / -no-reboot).
  virtual void on_guest_stopped() = 0;
  // The hypervisor failed on its own (process died, internal error): the VM cannot go on.
  // An operation in flight is also completed, with an error, through its Done.
  virtual void on_engine_failed(Error reason) = 0;
};

class Engine {
 public:
  using Done = std::function<void(Result<void>)>;

  // Releases everything: a running hypervisor is stopped (cleanly if it answers quickly,
  // killed otherwise), no process or thread outlives the engine. May run on one of the
  // engine's own threads (the last VirtualMachine reference dropped in a callback): it must not
  // deadlock or join itself then. Pending Done callbacks are not called after destruction.
  virtual ~Engine() = default;

  // The name recorded in snapshot manifests: "qemu" or "virtualization_framework".
  virtual std::string_view backend_name() const = 0;
  // How the guest's CPUs run: kvm or tcg (QEMU, resolved at create), hvf (VZ). Never automatic.
  virtual Acceleration acceleration() const = 0;
  // The config the VM runs with (a backend may replace a generated machine identifier).
  virtual const VmConfig& config() const = 0;
  // Whether the machine has a serial console port, which a restore must match. By default the
  // config's serial() decides; VZ also adds a port for CreateOptions::on_console_line.
  virtual bool has_serial_port() const {
    return !std::holds_alternative<std::monostate>(config().serial());
  }

  // The listener must outlive the engine's use of it; the core passes a weak reference so that
  // events racing with destruction are dropped.
  virtual void set_listener(std::weak_ptr<EngineListener> listener) = 0;

  virtual void start(Done done) = 0;         // stopped/error -> running
  virtual void pause(Done done) = 0;         // running -> paused
  virtual void resume(Done done) = 0;        // paused -> running
  virtual void stop(Done done) = 0;          // running/paused -> stopped, hard
  virtual void request_stop(Done done) = 0;  // asks the guest; done when the request is sent

  // Whether this VM can be saved at all, and if not why (e.g. a directory share), so that save
  // fails before the state changes. Also checked before restore.
  virtual Result<void> check_save_support() const = 0;
  // The state file's name inside a bundle, e.g. "state.qemu" or "state.vzvmsave".
  virtual std::string state_file_name() const = 0;
  // paused -> paused: writes the machine state to `state_file` (which does not exist yet).
  // Any number of saves may follow one pause; each must describe the same guest state.
  virtual void save(const std::filesystem::path& state_file, Done done) = 0;
  // Inside a successful save's Done: the state file's digest ("xxh3-128:<hex>") if the engine
  // computed it while writing; nullopt makes the core read the file back to compute it.
  virtual std::optional<std::string> saved_state_digest() const { return std::nullopt; }
  // stopped -> paused: loads `state_file`; the manifest was already checked by the core.
  virtual void restore(const std::filesystem::path& state_file, Done done) = 0;

  // The hypervisor's log file for the current or last run, if the backend writes one.
  virtual std::optional<std::filesystem::path> log_path() const { return std::nullopt; }
  // What the backend can see of the VM's cost (vmm/metrics.hpp); the core adds state_time.
  virtual VmMetrics metrics() const { return {}; }
  // Templates (VirtualMachine::save_template). A backend without them keeps these defaults,
  // which say why (template_support_error()).
  // Whether this VM can be saved as a template (`saving`), or restored as a clone, beyond the
  // portable rules of snapshot/compat.hpp; checked before the state changes. The core calls
  // save_template/restore_clone only after this succeeded.
  virtual Result<void> check_template_support(bool saving) const {
    (void)saving;
    return template_support_error();
  }
  // paused -> paused: the device state to `state_file` and the guest's RAM to `memory_file`
  // (neither exists yet). The core records the RAM file's size from the config.
  virtual void save_template(const std::filesystem::path& state_file,
                             const std::filesystem::path& memory_file, Done done) {
    (void)state_file, (void)memory_file;
    done(template_support_error());
  }
  // stopped -> stopped, for VmPool: starts the hypervisor for a clone of the template whose RAM
  // file is `memory_file`, waiting for its device state; a restore_clone() of that file then
  // only loads the state. A prepared process that dies is reported as an engine failure.
  virtual void prepare_clone(const std::filesystem::path& memory_file, Done done) {
    (void)memory_file;
    done(template_support_error());
  }
  // stopped -> paused: a clone. RAM maps `memory_file` privately (never written), the device
  // state comes from `state_file`.
  virtual void restore_clone(const std::filesystem::path& state_file,
                             const std::filesystem::path& memory_file, Done done) {
    (void)state_file, (void)memory_file;
    done(template_support_error());
  }

  virtual void connect_vsock(std::uint32_t port,
                             std::function<void(Result<FileDescriptor>)> done) = 0;

 protected:
  Unexpected template_support_error() const {
    if (backend_name() == "virtualization_framework") {
      return make_error(Errc::unsupported,
                        "templates: Virtualization.framework restores a VM only from its own "
                        "state file, which holds all of its memory; it has no file-backed "
                        "memory to map copy-on-write");
    }
    return make_error(Errc::unsupported,
                      "templates: the " + std::string(backend_name()) + " backend has none");
  }

 public:
  virtual Result<Subscription> listen_vsock(std::uint32_t port,
                                            std::function<void(FileDescriptor)> on_connection) = 0;

  // A new descriptor on the host end of config().console_ports()[index] for the current run.
  // The core checks the index and that the VM is running or paused; any thread.
  // Memory balloon. The core has checked that the config has one, the state (running or
  // paused) and the target against memory_target.hpp, with this engine's granularity.
  virtual bool memory_target_in_whole_mib() const { return false; }
  virtual void set_memory_target(Size target, Done done) = 0;
  virtual void memory_balloon(std::function<void(Result<MemoryBalloonInfo>)> done) = 0;

  // The guest's addresses (VirtualMachine::guest_addresses); any thread.
  virtual Result<std::vector<GuestAddress>> guest_addresses() const {
    return make_error(Errc::unsupported, "guest_addresses: not supported by this backend");
  }

  virtual Result<FileDescriptor> console_port(std::size_t index) {
    (void)index;
    return make_error(Errc::unsupported, "console ports are not supported by this backend");
  }
};

// Backend factories. Each checks the config against what the backend and host can do
// (unsupported features are errors naming the feature) and returns `unsupported` when the
// backend is not built for, or not available on, this platform.
Result<std::unique_ptr<Engine>> make_qemu_engine(const VmConfig& config,
                                                 const CreateOptions& options,
                                                 const std::filesystem::path& work_dir);
Result<std::unique_ptr<Engine>> make_vz_engine(const VmConfig& config,
                                               const CreateOptions& options,
                                               const std::filesystem::path& work_dir);

}  // namespace vmm::detail
