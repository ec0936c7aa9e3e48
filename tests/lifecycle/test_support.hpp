// Helpers for the lifecycle tests: a private temp directory, a valid config, and recorders
// for completions and state changes that wait with generous timeouts (only so that a bug
// fails the test instead of hanging it; nothing here measures time).
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

#include "lifecycle/fake_engine.hpp"
#include "vmm/config.hpp"
#include "vmm/virtual_machine.hpp"

namespace vmm::testing {

inline constexpr auto kTimeout = std::chrono::seconds(30);

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path file(const std::string& name, const std::string& content = "x") const;

 private:
  std::filesystem::path path_;
};

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

// Records state changes seen by an observer.
class StateLog {
 public:
  std::function<void(const StateChange&)> observer();
  bool wait_for(VmState state);  // a change *to* `state` was seen
  bool wait_for_count(std::size_t count);
  std::vector<StateChange> changes();
  std::vector<VmState> targets();

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<StateChange> changes_;
};

// A future's result, or a `timeout` error instead of hanging the test.
template <typename T>
Result<T> await(std::future<Result<T>> future) {
  if (future.wait_for(kTimeout) != std::future_status::ready) {
    return make_error(Errc::timeout, "test: the operation never completed");
  }
  return future.get();
}

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
