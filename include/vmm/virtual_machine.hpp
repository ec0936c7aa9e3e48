// vmm: the VirtualMachine lifecycle object.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vmm/config.hpp"
#include "vmm/error.hpp"
#include "vmm/file_descriptor.hpp"
#include "vmm/isolation.hpp"
#include "vmm/metrics.hpp"
#include "vmm/qemu_options.hpp"
#include "vmm/state.hpp"

namespace vmm {

namespace detail {
struct VirtualMachineAccess;  // the library's own way in (src/machine)
}

enum class Backend {
  automatic,                 // Virtualization.framework on Apple platforms, QEMU elsewhere
  virtualization_framework,  // macOS 13+
  qemu,                      // Linux (or any host with qemu-system-*)
};
std::string_view to_string(Backend backend) noexcept;

struct CreateOptions {
  Backend backend = Backend::automatic;
  // Where runtime files (sockets, logs) go; empty: a fresh directory under the system temp
  // directory, removed with the VM.
  std::filesystem::path working_directory;
  QemuOptions qemu;  // vmm/qemu_options.hpp; ignored by other backends
  // Confining the hypervisor process (vmm/isolation.hpp): sandbox, uid/gid, jail, network
  // namespace, cgroup. Checked at create.
  Isolation isolation;
  // Each line the guest writes to its serial console, without the newline, on the VM's callback
  // thread (see VirtualMachine). Works alongside a SerialToFile/SerialToFd console in the config.
  std::function<void(std::string_view line)> on_console_line;
  // Guest RAM in a file (QEMU: memory-backend-file, share=on, in the working directory), which
  // save_template() needs. Other backends refuse it (`unsupported`).
  bool file_backed_memory = false;
};

// One observer registration; unsubscribes when destroyed (or on reset()).
class Subscription {
 public:
  Subscription() = default;
  explicit Subscription(std::function<void()> cancel) : cancel_(std::move(cancel)) {}
  Subscription(Subscription&& other) noexcept : cancel_(std::exchange(other.cancel_, {})) {}
  Subscription& operator=(Subscription&& other) noexcept {
    if (this != &other) {
      reset();
      cancel_ = std::exchange(other.cancel_, {});
    }
    return *this;
  }
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  ~Subscription() { reset(); }
  void reset() {
    if (auto cancel = std::exchange(cancel_, {})) cancel();
  }

 private:
  std::function<void()> cancel_;
};

struct StateChange {
  VmState from;
  VmState to;
  // Set when `to` is VmState::error, or when the guest stopped the machine on its own.
  std::optional<Error> reason;
};

// An address of the guest on one of its networks (VirtualMachine::guest_addresses).
struct GuestAddress {
  std::size_t network = 0;  // index in config().networks()
  std::string address;      // IPv4, e.g. "10.0.2.15"
  friend bool operator==(const GuestAddress&, const GuestAddress&) = default;
};

// The memory balloon's state (VirtualMachine::memory_balloon).
struct MemoryBalloonInfo {
  Size target;                 // the last set_memory_target(), else the configured memory
  std::optional<Size> actual;  // the guest's memory minus what its balloon holds (QEMU only)
};

class VirtualMachine {
 public:
  using Completion = std::function<void(Result<void>)>;

  // Checks the config against the backend (an unsupported feature is an error here, never
  // dropped silently) and prepares it; no VM runs until start() or restore().
  static Result<std::shared_ptr<VirtualMachine>> create(VmConfig config,
                                                        CreateOptions options = {});

  // Stops a running VM (hard) and releases the hypervisor; safe from any thread, including
  // from inside one of this VM's callbacks.
  ~VirtualMachine();
  VirtualMachine(const VirtualMachine&) = delete;
  VirtualMachine& operator=(const VirtualMachine&) = delete;

  VmState state() const;
  // The error that put the VM into VmState::error, if it is there.
  std::optional<Error> last_error() const;
  // The config the VM runs with (with a backend-generated machine identifier, if any).
  const VmConfig& config() const;
  Backend backend() const;
  // How the guest's CPUs run: kvm or tcg under QEMU (decided at create: automatic becomes kvm
  // when /dev/kvm opens, tcg otherwise), hvf under Virtualization.framework. TCG emulates every
  // instruction and is many times slower than kvm: worth printing next to timings.
  Acceleration acceleration() const;

  // The hypervisor's log for the current (or last) run: QEMU's stderr, which is also where its
  // own log goes (no -D file is given), one file per run in the working directory, each at most
  // 1 MiB (then "[vmm: log truncated]"); the last few runs are kept. Its lines also reach
  // vmm::logger() at debug level. nullopt before the first run, or where the backend has none.
  std::optional<std::filesystem::path> log_path() const;
  // A snapshot of what the VM costs and does (vmm/metrics.hpp). Blocks briefly (QEMU asks QMP,
  // waiting at most a second; a field it could not get stays empty). Any thread.
  VmMetrics metrics() const;

  // Every user callback of a VM -- observers, completions, connect_vsock results, listen_vsock
  // connections, console lines -- runs on the VM's one callback thread, in order, outside any
  // library lock. Do not wait on a future of this VM from inside one of them (it could only
  // complete after your callback returns). A refusal (invalid_state) completes at once on the
  // caller's thread instead: nothing changed, so there is nothing to order it with.
  //
  // Every observer is called after each transition, in order of transitions. After the
  // Subscription is reset the observer is not called again, except for a call already running
  // at that moment.
  [[nodiscard]] Subscription on_state_change(std::function<void(const StateChange&)> observer);

  // Operations never block. Each completes exactly once: at once with invalid_state (naming
  // the current state) when the state does not allow it, otherwise when the hypervisor is done.
  // One operation runs at a time; another one asked for meanwhile fails with invalid_state
  // (stop() too: destroying the VM is the way out of an operation that hangs). A failed
  // operation leaves the VM in error, except request_stop (still running), save (still paused)
  // and restore (stopped). If the guest stops the machine or the hypervisor fails while an
  // operation runs, the operation completes then, with an error (a stop: with success).
  // Destroying the VM completes a pending operation with `cancelled`.
  void start(Completion done);
  void pause(Completion done);
  void resume(Completion done);
  void stop(Completion done);          // hard stop: the guest gets no say
  void request_stop(Completion done);  // ACPI power button; completes when the request is sent
  // Saves a paused VM into the bundle directory `bundle` (replaced only once the new one is
  // complete); the VM stays paused. Any number of saves may follow one pause, also after a
  // failed one. QEMU: a save after a successful save copies that save's state file (the guest
  // has not run since); a save after a failed one first lets the guest run for the instant
  // between QEMU's `cont` and `stop` (the only way out of QEMU's post-migration state), so it
  // records a state a few instructions later. Host I/O failures (a full disk) are `io` naming the
  // state file; when save fails, its temporary files are gone and their space is free. If the
  // hypervisor dies during a save, the VM is in error when the completion runs.
  void save(std::filesystem::path bundle, Completion done);
  // Restores a stopped VM from `bundle`; refused before any hypervisor call if the manifest does
  // not match this VM's config, or (`io`, naming the file) if the state file does not match the
  // digest the manifest records; this reads the state file once, on the calling thread. A
  // bundle from before digests (manifest format 1) restores unverified, with a logged warning
  // (on Virtualization.framework; a format 1 QEMU bundle is refused, see vmm/snapshot.hpp).
  // On success the VM is paused: resume() continues it.
  void restore(std::filesystem::path bundle, Completion done);
  // Like save(), into a template bundle: the guest's RAM file is copied into the bundle (holes
  // stay holes) and the state file holds only the device state (a few hundred KiB). Needs
  // CreateOptions::file_backed_memory; the VM stays paused. restore() of a template bundle
  // makes a clone: its RAM maps the bundle's RAM file privately (copy-on-write), so any number
  // of clones, in any number of processes, share the pages they have not written, and never
  // write the template's files. A clone keeps the template's MACs and machine identifier, so
  // templates allow NAT networks only (each VM has its own), and read-only disks only. QEMU
  // only; elsewhere `unsupported`. See docs/snapshots.md, "Templates and clones".
  void save_template(std::filesystem::path bundle, Completion done);

  // A future is ready once the state has changed (state() already says so) and, as for a
  // completion, after the observers of its transitions have run. With no observer registered
  // it does not go through the callback thread at all: nothing is there to wait for.
  std::future<Result<void>> start();
  std::future<Result<void>> pause();
  std::future<Result<void>> resume();
  std::future<Result<void>> stop();
  std::future<Result<void>> request_stop();
  std::future<Result<void>> save(std::filesystem::path bundle);
  std::future<Result<void>> restore(std::filesystem::path bundle);
  std::future<Result<void>> save_template(std::filesystem::path bundle);

  // vsock, on a VM with a vsock device: connect to a guest port (running only), or accept guest
  // connections to a host port. Descriptors are owned by the caller. `unsupported` where the
  // backend or host has no vsock.
  void connect_vsock(std::uint32_t port, std::function<void(Result<FileDescriptor>)> done);
  std::future<Result<FileDescriptor>> connect_vsock(std::uint32_t port);
  // listen_vsock works in any state, before start() too, and the listener stays across stops
  // and restarts until the returned Subscription is destroyed; a connection not yet delivered
  // then is closed instead. Only this VM's guest reaches it: two VMs may listen on one port.
  Result<Subscription> listen_vsock(std::uint32_t port,
                                    std::function<void(FileDescriptor)> on_connection);

  // Console ports (VmConfigBuilder::console_port): a new descriptor (owned by the caller) on the
  // host end of the named port's stream, while the VM is running or paused. QEMU gives every run
  // a fresh channel: after a stop and start ask again (the old descriptor reads end-of-file).
  // Bytes the guest wrote before this call wait in the channel. invalid_config when the config
  // has no port of that name; invalid_state when the VM is not running or paused.
  Result<FileDescriptor> console_port(std::string_view name);

  // The guest's addresses, per network, as far as the backend knows them. QEMU: on each NAT
  // network the address its DHCP server hands out (vmm chooses it: the guest gets it once it
  // asks for a lease). Virtualization.framework: the address macOS's DHCP server leased to the
  // network's MAC (/var/db/dhcpd_leases); not_found naming the network while the guest has no
  // lease yet. Other networks are not listed.
  Result<std::vector<GuestAddress>> guest_addresses() const;

  // Memory balloon (VmConfigBuilder::balloon()), on a running or paused VM: asks the guest to
  // give memory back until it has `target`. The target must be at most the configured memory,
  // at least VirtualMachine::min_memory_target, and on Virtualization.framework a whole number
  // of MiB (invalid_config otherwise, naming the value). Completes when the hypervisor took the
  // request; the guest's driver then inflates or deflates the balloon on its own time.
  static constexpr Size min_memory_target = Size::mib(128);
  void set_memory_target(Size target, Completion done);
  std::future<Result<void>> set_memory_target(Size target);
  // The target and, where the hypervisor reports it, the actual size.
  void memory_balloon(std::function<void(Result<MemoryBalloonInfo>)> done);
  std::future<Result<MemoryBalloonInfo>> memory_balloon();

  // The guest's clock (docs/snapshots.md): sets it to the host's current time through the
  // QEMU guest agent (qemu-ga's guest-sync-delimited, then guest-set-time) on the console port
  // named "org.qemu.guest_agent.0" (VmConfigBuilder::console_port), on which the guest must run
  // qemu-ga. invalid_config at once when the config has no such port, invalid_state when the VM
  // is not running. Otherwise it completes on the callback thread: success once the agent set
  // the clock; `timeout` when the agent did not answer within 10 s per reply (not running?);
  // `backend` naming the agent's error; `io` when the channel failed.
  // With that port in the config, vmm also does this on its own every time a restored VM is
  // resumed (the guest's clock stood still while the snapshot sat on disk); the resume does not
  // wait for it, and a failure is logged (warning), not reported.
  void sync_guest_time(Completion done);
  std::future<Result<void>> sync_guest_time();

 private:
  struct Impl;  // src/machine/virtual_machine_impl.hpp
  friend struct detail::VirtualMachineAccess;
  explicit VirtualMachine(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace vmm
