// vmm: VmPool, clones of one template kept waiting in their hypervisor (include/vmm/vm_pool.hpp).
//
// One refill thread owns the making: it drops waiting VMs whose process died (the engine reports
// the death, which puts the VM in `error`), and makes one VM at a time while fewer than `size`
// wait. take() only pops a waiting VM; it restores and resumes it on the caller's thread.
#include "vmm/vm_pool.hpp"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <utility>

#include "machine/virtual_machine_impl.hpp"
#include "vmm/logging.hpp"
#include "vmm/snapshot.hpp"

namespace vmm {

namespace {

constexpr std::size_t max_pool_size = 64;
constexpr auto prepare_timeout = std::chrono::seconds(120);
constexpr auto health_interval = std::chrono::milliseconds(100);
constexpr auto retry_delay = std::chrono::seconds(1);

// Where a pooled VM's console lines go: nowhere until it is taken.
struct ConsoleSlot {
  std::mutex mutex;
  std::function<void(std::string_view)> target;
  void deliver(std::string_view line) {
    std::lock_guard lock(mutex);
    if (target) target(line);
  }
};

struct Pooled {
  std::shared_ptr<VirtualMachine> vm;
  std::shared_ptr<ConsoleSlot> console;
};

Result<void> prefixed(const char* what, Result<void> result) {
  if (result) return result;
  return make_error(result.error().code(), std::string(what) + ": " + result.error().message());
}

}  // namespace

struct VmPool::State {
  State(std::filesystem::path bundle_, SnapshotManifest manifest_, VmPoolOptions options_)
      : bundle(std::move(bundle_)), manifest(std::move(manifest_)), options(std::move(options_)) {}

  std::filesystem::path bundle;
  SnapshotManifest manifest;
  VmPoolOptions options;

  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  std::deque<Pooled> waiting;
  bool stopping = false;
  std::thread refiller;

  // A stopped VM of the template with `console` as its console.
  Result<Pooled> make_vm() const {
    Pooled pooled{nullptr, std::make_shared<ConsoleSlot>()};
    CreateOptions create = options.create;
    create.on_console_line = [slot = pooled.console](std::string_view line) {
      slot->deliver(line);
    };
    auto vm = VirtualMachine::create(manifest.config, std::move(create));
    if (!vm) return std::move(vm).error();
    pooled.vm = std::move(*vm);
    return pooled;
  }

  // A VM whose process waits for the template's state.
  Result<Pooled> make_waiting() const {
    auto pooled = make_vm();
    if (!pooled) return pooled;
    auto promise = std::make_shared<std::promise<Result<void>>>();
    auto prepared = promise->get_future();
    detail::VirtualMachineAccess::impl(*pooled->vm)
        .prepare_clone(bundle / manifest.template_memory->file,
                       [promise](Result<void> result) { promise->set_value(std::move(result)); });
    if (prepared.wait_for(prepare_timeout) != std::future_status::ready) {
      return make_error(Errc::timeout, "pool: the clone's process did not start in time");
    }
    if (auto result = prepared.get(); !result) return std::move(result).error();
    return pooled;
  }

  void refill_loop() {
    std::unique_lock lock(mutex);
    while (!stopping) {
      // A process that died while waiting left its VM in `error`: never hand it out.
      std::deque<Pooled> dead;
      for (auto it = waiting.begin(); it != waiting.end();) {
        if (it->vm->state() != VmState::stopped) {
          dead.push_back(std::move(*it));
          it = waiting.erase(it);
        } else {
          ++it;
        }
      }
      if (!dead.empty()) {
        lock.unlock();
        logger()->info("vmm: pool: replacing {} clone process(es) that died while waiting",
                       dead.size());
        dead.clear();  // stops what is left of them, outside the lock
        lock.lock();
        continue;
      }
      if (waiting.size() >= options.size) {
        changed.wait_for(lock, health_interval);
        continue;
      }
      lock.unlock();
      auto made = make_waiting();
      lock.lock();
      if (made) {
        if (stopping) break;  // `made` is destroyed below, outside the lock
        waiting.push_back(std::move(*made));
        changed.notify_all();
      } else {
        logger()->warn("vmm: pool: {}", made.error().message());
        changed.wait_for(lock, retry_delay, [&] { return stopping; });
      }
    }
  }

  // Loads the state into a stopped VM (prepared or not) and runs it.
  Result<std::shared_ptr<VirtualMachine>> run(Pooled pooled,
                                              std::function<void(std::string_view)> console) {
    {
      std::lock_guard lock(pooled.console->mutex);
      pooled.console->target = std::move(console);
    }
    if (auto restored = prefixed("pool: restore", pooled.vm->restore(bundle).get()); !restored) {
      return std::move(restored).error();
    }
    if (auto resumed = prefixed("pool: resume", pooled.vm->resume().get()); !resumed) {
      return std::move(resumed).error();
    }
    return pooled.vm;
  }
};

VmPool::VmPool(std::shared_ptr<State> state) : state_(std::move(state)) {}

Result<std::unique_ptr<VmPool>> VmPool::create(std::filesystem::path template_bundle,
                                               VmPoolOptions options) {
  if (options.size == 0 || options.size > max_pool_size) {
    return make_error(Errc::invalid_config, "pool: size " + std::to_string(options.size) +
                                                " is not between 1 and " +
                                                std::to_string(max_pool_size));
  }
  if (!options.create.working_directory.empty()) {
    return make_error(Errc::invalid_config,
                      "pool: create.working_directory must be empty (each VM gets its own)");
  }
  auto manifest = read_snapshot_manifest(template_bundle);
  if (!manifest) return std::move(manifest).error();
  if (!manifest->template_memory) {
    return make_error(Errc::invalid_config,
                      "pool: " + template_bundle.string() +
                          " is not a template bundle (made by VirtualMachine::save_template)");
  }
  options.create.on_console_line = nullptr;
  auto state = std::make_shared<State>(std::move(template_bundle), std::move(*manifest),
                                       std::move(options));
  // One VM up front, so that a pool that can never work (no QEMU, another backend) says so.
  auto first = state->make_waiting();
  if (!first) return std::move(first).error();
  state->waiting.push_back(std::move(*first));
  state->refiller = std::thread([raw = state.get()] { raw->refill_loop(); });
  return std::unique_ptr<VmPool>(new VmPool(std::move(state)));
}

VmPool::~VmPool() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
    state_->changed.notify_all();
  }
  if (state_->refiller.joinable()) state_->refiller.join();
  std::deque<Pooled> waiting;
  {
    std::lock_guard lock(state_->mutex);
    waiting.swap(state_->waiting);
  }
  waiting.clear();  // each VM stops its process as it is destroyed
}

Result<std::shared_ptr<VirtualMachine>> VmPool::take(
    std::function<void(std::string_view line)> on_console_line) {
  for (;;) {
    std::optional<Pooled> pooled;
    {
      std::lock_guard lock(state_->mutex);
      while (!state_->waiting.empty() && !pooled) {
        Pooled front = std::move(state_->waiting.front());
        state_->waiting.pop_front();
        if (front.vm->state() == VmState::stopped) pooled = std::move(front);
      }
      state_->changed.notify_all();  // the refill thread makes a replacement
    }
    if (!pooled) break;
    // A process can still die between the check and the restore: then try the next one.
    auto vm = state_->run(std::move(*pooled), on_console_line);
    if (vm) return vm;
    logger()->warn("vmm: pool: a waiting clone failed ({}); trying another",
                   vm.error().message());
  }
  // None waiting: a clone from scratch.
  auto made = state_->make_vm();
  if (!made) return std::move(made).error();
  return state_->run(std::move(*made), std::move(on_console_line));
}

std::size_t VmPool::ready() const {
  std::lock_guard lock(state_->mutex);
  std::size_t count = 0;
  for (const auto& pooled : state_->waiting) count += pooled.vm->state() == VmState::stopped;
  return count;
}

bool VmPool::wait_full(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(state_->mutex);
  return state_->changed.wait_for(lock, timeout, [&] {
    std::size_t count = 0;
    for (const auto& pooled : state_->waiting) count += pooled.vm->state() == VmState::stopped;
    return count >= state_->options.size;
  });
}

}  // namespace vmm
