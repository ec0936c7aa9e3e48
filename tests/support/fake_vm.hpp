// Test support for the machine and snapshot tests: a valid config, recorders for completions
// and state changes (waiting with support::kTimeout), and a VM over the fake engine.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/fake_engine.hpp"
#include "support/state_log.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"
#include "vmm/config.hpp"
#include "vmm/virtual_machine.hpp"

namespace vmm::testing {

using support::await;
using support::kTimeout;
using support::TempDir;

// A valid config whose files live in `dir`: a kernel, a disk, a NAT network with a fixed MAC,
// vsock, cpus 2, memory 512MiB. Returns the builder so tests can vary one thing.
VmConfigBuilder base_builder(const TempDir& dir);
VmConfig base_config(const TempDir& dir);

// Records every completion handed out by callback(); thread-safe.
class Completions {
 public:
  VirtualMachine::Completion callback();
  bool wait_for(std::size_t count);
  std::size_t count();
  Result<void> result(std::size_t index);
  std::thread::id thread(std::size_t index);

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Result<void>> results_;
  std::vector<std::thread::id> threads_;
};

// A VM over a fresh fake engine. Members are destroyed bottom-up: the subscription, then the
// VM (whose callback thread is joined), and only then the log its observer writes to.
struct FakeVm {
  StateLog log;
  std::shared_ptr<FakeEngineControl> control = std::make_shared<FakeEngineControl>();
  std::shared_ptr<VirtualMachine> vm;
  Subscription subscription;

  explicit FakeVm(const VmConfig& config, Backend backend = Backend::qemu);
  // Drives the VM to `state` with successful operations (from stopped).
  void drive_to(VmState state);
};

}  // namespace vmm::testing
