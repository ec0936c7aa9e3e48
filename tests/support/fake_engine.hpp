// A scriptable Engine for the machine and snapshot tests. It acts like a backend: results arrive later on
// its own thread, never inside the call. The test steers it through a FakeEngineControl that
// outlives the engine (the VM owns and destroys the engine).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "machine/engine.hpp"

namespace vmm::testing {

class FakeEngine;

class FakeEngineControl {
 public:
  // Held: an operation waits for complete(); otherwise it succeeds on the engine thread at
  // once (a save writes the state file first).
  void hold_operations(bool hold);
  // The next call of `operation` ("start", "save", ...) fails with `error` on the engine thread.
  void fail_next(const std::string& operation, Error error);
  void set_save_support(Result<void> support);
  void set_backend_name(std::string name);
  // What has_serial_port() answers for engines made afterwards (as VZ does with
  // on_console_line); nullopt: the Engine default, from config().serial().
  void set_serial_port(std::optional<bool> port);

  // Completes the held `operation` on the engine thread; false if none is held or the engine
  // is gone. A successful save writes the state file first.
  bool complete(const std::string& operation, Result<void> result = {});
  // Calls the listener on the engine thread, as a backend reports what nobody asked for.
  bool emit_guest_stopped();
  bool emit_failure(Error reason);
  // A guest connection to the host vsock `port`: handed (a pipe's read end) to the port's
  // listener on the engine thread, as a backend's acceptor does. False if nobody listens.
  bool emit_vsock_connection(std::uint32_t port);
  // Where console_port(index) and connect_vsock(port) get their descriptors (e.g. one end of a
  // socketpair whose other end a FakeGuestAgent serves). Unset: console_port is `unsupported`,
  // and connect_vsock hands out a pipe's read end.
  void set_console_port_source(std::function<Result<FileDescriptor>(std::size_t index)> source);
  void set_vsock_source(std::function<Result<FileDescriptor>(std::uint32_t port)> source);
  // Waits until the engine thread has run everything posted so far (false on timeout or if
  // the engine is gone).
  bool drain();

  // Waits until `operation` has been called `times` times in total.
  bool wait_for_call(const std::string& operation, std::size_t times = 1);
  std::vector<std::string> calls();
  std::size_t count(const std::string& operation);
  std::optional<std::filesystem::path> last_path(const std::string& operation);
  bool engine_destroyed();
  // The listener the VM registered (empty before registration).
  std::weak_ptr<detail::EngineListener> listener();
  bool wait_engine_destroyed();

 private:
  friend class FakeEngine;
  bool post(std::function<void()> task);  // to the engine thread, if the engine lives

  std::mutex mutex_;
  std::condition_variable changed_;
  FakeEngine* engine_ = nullptr;
  bool destroyed_ = false;
  bool hold_ = false;
  std::map<std::string, Error> failures_;
  std::map<std::string, detail::Engine::Done> held_;
  std::map<std::string, std::filesystem::path> paths_;
  std::vector<std::string> calls_;
  Result<void> save_support_;
  std::string backend_name_ = "qemu";
  std::map<std::uint32_t, std::function<void(FileDescriptor)>> listeners_;
  std::optional<bool> serial_port_;
  std::function<Result<FileDescriptor>(std::size_t)> console_port_source_;
  std::function<Result<FileDescriptor>(std::uint32_t)> vsock_source_;
};

class FakeEngine final : public detail::Engine {
 public:
  static std::unique_ptr<FakeEngine> make(VmConfig config,
                                          std::shared_ptr<FakeEngineControl> control);
  FakeEngine(VmConfig config, std::shared_ptr<FakeEngineControl> control);
  ~FakeEngine() override;

  std::string_view backend_name() const override;
  // A fake runs nothing; it reports the QEMU backend's accelerator on this machine.
  Acceleration acceleration() const override { return Acceleration::tcg; }
  const VmConfig& config() const override { return config_; }
  bool has_serial_port() const override {
    return serial_port_.value_or(detail::Engine::has_serial_port());
  }
  void set_listener(std::weak_ptr<detail::EngineListener> listener) override;

  void start(Done done) override { operation("start", std::move(done)); }
  void pause(Done done) override { operation("pause", std::move(done)); }
  void resume(Done done) override { operation("resume", std::move(done)); }
  void stop(Done done) override { operation("stop", std::move(done)); }
  void request_stop(Done done) override { operation("request_stop", std::move(done)); }

  Result<void> check_save_support() const override;
  std::string state_file_name() const override { return "state.fake"; }
  void save(const std::filesystem::path& state_file, Done done) override;
  void restore(const std::filesystem::path& state_file, Done done) override;

  void connect_vsock(std::uint32_t port,
                     std::function<void(Result<FileDescriptor>)> done) override;
  Result<Subscription> listen_vsock(std::uint32_t port,
                                    std::function<void(FileDescriptor)> on_connection) override;
  // Records "set_memory_target:<bytes>"; memory_balloon reports that target as both sizes.
  bool memory_target_in_whole_mib() const override { return backend_name() != "qemu"; }
  void set_memory_target(Size target, Done done) override;
  void memory_balloon(std::function<void(Result<MemoryBalloonInfo>)> done) override;
  // Records "console_port:<index>"; see FakeEngineControl::set_console_port_source.
  Result<FileDescriptor> console_port(std::size_t index) override;

  // What a successful save writes, so that tests can tell bundles apart.
  static constexpr const char* state_content = "fake machine state";

 private:
  friend class FakeEngineControl;
  void operation(const std::string& name, Done done,
                 std::optional<std::filesystem::path> path = std::nullopt);
  void post(std::function<void()> task);

  // Shared with the thread, which outlives the engine when the engine is destroyed from a
  // callback on that very thread (as real engines must allow).
  struct Worker {
    std::mutex mutex;
    std::condition_variable changed;
    std::deque<std::function<void()>> queue;
    bool stopping = false;
  };
  static void run(const std::shared_ptr<Worker>& worker);

  VmConfig config_;
  std::shared_ptr<FakeEngineControl> control_;
  std::string backend_name_;
  std::optional<bool> serial_port_;  // copied from the control at construction
  std::weak_ptr<detail::EngineListener> listener_;
  std::optional<Size> memory_target_;  // under control_->mutex_

  std::shared_ptr<Worker> worker_ = std::make_shared<Worker>();
  std::thread thread_;
};

}  // namespace vmm::testing
