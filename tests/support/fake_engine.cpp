#include "support/fake_engine.hpp"

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <future>
#include <utility>

#include "support/wait.hpp"

namespace vmm::testing {

namespace {
using support::kTimeout;  // only to turn a hang into a failure

// Writes the state file as a backend would; an error if it cannot.
Result<void> write_state(const std::filesystem::path& path) {
  std::ofstream out(path, std::ios::binary);
  out << FakeEngine::state_content;
  out.close();
  if (!out) return make_error(Errc::io, "fake: cannot write " + path.string());
  return {};
}
}  // namespace

// ---- control -------------------------------------------------------------------------------------

void FakeEngineControl::hold_operations(bool hold) {
  std::lock_guard lock(mutex_);
  hold_ = hold;
}

void FakeEngineControl::fail_next(const std::string& operation, Error error) {
  std::lock_guard lock(mutex_);
  failures_.insert_or_assign(operation, std::move(error));
}

void FakeEngineControl::set_save_support(Result<void> support) {
  std::lock_guard lock(mutex_);
  save_support_ = std::move(support);
}

void FakeEngineControl::set_backend_name(std::string name) {
  std::lock_guard lock(mutex_);
  backend_name_ = std::move(name);
}

void FakeEngineControl::set_serial_port(std::optional<bool> port) {
  std::lock_guard lock(mutex_);
  serial_port_ = port;
}

bool FakeEngineControl::post(std::function<void()> task) {
  std::lock_guard lock(mutex_);
  if (engine_ == nullptr) return false;
  engine_->post(std::move(task));
  return true;
}

bool FakeEngineControl::complete(const std::string& operation, Result<void> result) {
  detail::Engine::Done done;
  std::optional<std::filesystem::path> path;
  {
    std::lock_guard lock(mutex_);
    auto it = held_.find(operation);
    if (it == held_.end()) return false;
    done = std::move(it->second);
    held_.erase(it);
    if (auto p = paths_.find(operation); p != paths_.end()) path = p->second;
  }
  const bool writes_state = operation == "save" && result.has_value();
  return post([done = std::move(done), result = std::move(result), path, writes_state]() mutable {
    if (writes_state && path) {
      if (auto written = write_state(*path); !written) result = written;
    }
    done(std::move(result));
  });
}

bool FakeEngineControl::emit_guest_stopped() {
  return post([this] {
    std::weak_ptr<detail::EngineListener> listener;
    {
      std::lock_guard lock(mutex_);
      if (engine_ != nullptr) listener = engine_->listener_;
    }
    if (auto l = listener.lock()) l->on_guest_stopped();
  });
}

bool FakeEngineControl::emit_failure(Error reason) {
  return post([this, reason = std::move(reason)] {
    std::weak_ptr<detail::EngineListener> listener;
    {
      std::lock_guard lock(mutex_);
      if (engine_ != nullptr) listener = engine_->listener_;
    }
    if (auto l = listener.lock()) l->on_engine_failed(reason);
  });
}

bool FakeEngineControl::emit_vsock_connection(std::uint32_t port) {
  std::function<void(FileDescriptor)> listener;
  {
    std::lock_guard lock(mutex_);
    auto it = listeners_.find(port);
    if (it == listeners_.end()) return false;
    listener = it->second;
  }
  return post([listener = std::move(listener)] {
    int fds[2];
    if (::pipe(fds) != 0) return;
    ::close(fds[1]);
    listener(FileDescriptor(fds[0]));
  });
}

bool FakeEngineControl::drain() {
  auto done = std::make_shared<std::promise<void>>();
  auto future = done->get_future();
  if (!post([done] { done->set_value(); })) return false;
  return future.wait_for(kTimeout) == std::future_status::ready;
}

bool FakeEngineControl::wait_for_call(const std::string& operation, std::size_t times) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, kTimeout, [&] {
    std::size_t n = 0;
    for (const auto& call : calls_) n += call == operation ? 1 : 0;
    return n >= times;
  });
}

std::vector<std::string> FakeEngineControl::calls() {
  std::lock_guard lock(mutex_);
  return calls_;
}

std::size_t FakeEngineControl::count(const std::string& operation) {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& call : calls_) n += call == operation ? 1 : 0;
  return n;
}

std::optional<std::filesystem::path> FakeEngineControl::last_path(const std::string& operation) {
  std::lock_guard lock(mutex_);
  auto it = paths_.find(operation);
  if (it == paths_.end()) return std::nullopt;
  return it->second;
}

bool FakeEngineControl::engine_destroyed() {
  std::lock_guard lock(mutex_);
  return destroyed_;
}

std::weak_ptr<detail::EngineListener> FakeEngineControl::listener() {
  std::lock_guard lock(mutex_);
  if (engine_ == nullptr) return {};
  return engine_->listener_;
}

bool FakeEngineControl::wait_engine_destroyed() {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, kTimeout, [&] { return destroyed_; });
}

// ---- engine --------------------------------------------------------------------------------------

std::unique_ptr<FakeEngine> FakeEngine::make(VmConfig config,
                                             std::shared_ptr<FakeEngineControl> control) {
  return std::make_unique<FakeEngine>(std::move(config), std::move(control));
}

FakeEngine::FakeEngine(VmConfig config, std::shared_ptr<FakeEngineControl> control)
    : config_(std::move(config)),
      control_(std::move(control)),
      thread_([worker = worker_] { run(worker); }) {
  std::lock_guard lock(control_->mutex_);
  control_->engine_ = this;
  backend_name_ = control_->backend_name_;
  serial_port_ = control_->serial_port_;
}

FakeEngine::~FakeEngine() {
  std::map<std::string, Done> dropped;  // never called after destruction, as Engine promises
  {
    std::lock_guard lock(control_->mutex_);
    control_->engine_ = nullptr;
    dropped.swap(control_->held_);
  }
  {
    std::lock_guard lock(worker_->mutex);
    worker_->stopping = true;
  }
  worker_->changed.notify_one();
  if (thread_.get_id() == std::this_thread::get_id()) {
    thread_.detach();  // destroyed from one of our own callbacks: the thread ends by itself
  } else {
    thread_.join();
  }
  {
    std::lock_guard lock(control_->mutex_);
    control_->destroyed_ = true;
  }
  control_->changed_.notify_all();
}

std::string_view FakeEngine::backend_name() const { return backend_name_; }

void FakeEngine::set_listener(std::weak_ptr<detail::EngineListener> listener) {
  std::lock_guard lock(control_->mutex_);  // read by the control's emit_* under this lock
  listener_ = std::move(listener);
}

Result<void> FakeEngine::check_save_support() const {
  std::lock_guard lock(control_->mutex_);
  return control_->save_support_;
}

void FakeEngine::save(const std::filesystem::path& state_file, Done done) {
  operation("save", std::move(done), state_file);
}

void FakeEngine::restore(const std::filesystem::path& state_file, Done done) {
  operation("restore", std::move(done), state_file);
}

void FakeEngine::operation(const std::string& name, Done done,
                           std::optional<std::filesystem::path> path) {
  std::optional<Error> failure;
  bool hold = false;
  {
    std::lock_guard lock(control_->mutex_);
    control_->calls_.push_back(name);
    if (path) control_->paths_.insert_or_assign(name, *path);
    if (auto it = control_->failures_.find(name); it != control_->failures_.end()) {
      failure = it->second;
      control_->failures_.erase(it);
    } else if (control_->hold_) {
      control_->held_.insert_or_assign(name, std::move(done));
      hold = true;
    }
  }
  control_->changed_.notify_all();
  if (hold) return;
  // Never inside the call, as the Engine contract requires: always through the thread.
  post([done = std::move(done), failure, path, name]() mutable {
    if (failure) return done(Result<void>(*failure));
    if (name == "save" && path) return done(write_state(*path));
    done(Result<void>());
  });
}

void FakeEngine::connect_vsock(std::uint32_t port,
                               std::function<void(Result<FileDescriptor>)> done) {
  {
    std::lock_guard lock(control_->mutex_);
    control_->calls_.push_back("connect_vsock:" + std::to_string(port));
  }
  control_->changed_.notify_all();
  std::function<Result<FileDescriptor>(std::uint32_t)> source;
  {
    std::lock_guard lock(control_->mutex_);
    source = control_->vsock_source_;
  }
  if (source) {
    post([done = std::move(done), source = std::move(source), port] { done(source(port)); });
    return;
  }
  post([done = std::move(done)] {
    int fds[2];
    if (::pipe(fds) != 0) return done(make_error(Errc::io, "fake: pipe failed"));
    ::close(fds[1]);
    done(FileDescriptor(fds[0]));
  });
}

Result<FileDescriptor> FakeEngine::console_port(std::size_t index) {
  std::function<Result<FileDescriptor>(std::size_t)> source;
  {
    std::lock_guard lock(control_->mutex_);
    control_->calls_.push_back("console_port:" + std::to_string(index));
    source = control_->console_port_source_;
  }
  control_->changed_.notify_all();
  if (!source) return detail::Engine::console_port(index);
  return source(index);
}

void FakeEngineControl::set_console_port_source(
    std::function<Result<FileDescriptor>(std::size_t index)> source) {
  std::lock_guard lock(mutex_);
  console_port_source_ = std::move(source);
}

void FakeEngineControl::set_vsock_source(
    std::function<Result<FileDescriptor>(std::uint32_t port)> source) {
  std::lock_guard lock(mutex_);
  vsock_source_ = std::move(source);
}

void FakeEngine::set_memory_target(Size target, Done done) {
  {
    std::lock_guard lock(control_->mutex_);
    control_->calls_.push_back("set_memory_target:" + std::to_string(target.as_bytes()));
    memory_target_ = target;
  }
  control_->changed_.notify_all();
  post([done = std::move(done)] { done({}); });
}

void FakeEngine::memory_balloon(std::function<void(Result<MemoryBalloonInfo>)> done) {
  Size target = config_.memory();
  {
    std::lock_guard lock(control_->mutex_);
    target = memory_target_.value_or(target);
  }
  post([done = std::move(done), target] { done(MemoryBalloonInfo{target, target}); });
}

Result<Subscription> FakeEngine::listen_vsock(std::uint32_t port,
                                              std::function<void(FileDescriptor)> on_connection) {
  {
    std::lock_guard lock(control_->mutex_);
    control_->calls_.push_back("listen_vsock:" + std::to_string(port));
    control_->listeners_[port] = std::move(on_connection);
  }
  return Subscription([control = control_, port] {
    std::lock_guard lock(control->mutex_);
    control->calls_.push_back("unlisten_vsock:" + std::to_string(port));
    control->listeners_.erase(port);
  });
}

void FakeEngine::post(std::function<void()> task) {
  {
    std::lock_guard lock(worker_->mutex);
    worker_->queue.push_back(std::move(task));
  }
  worker_->changed.notify_one();
}

void FakeEngine::run(const std::shared_ptr<Worker>& worker) {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(worker->mutex);
      worker->changed.wait(lock, [&] { return worker->stopping || !worker->queue.empty(); });
      // On destruction the queue is dropped: pending results are never delivered.
      if (worker->stopping) return;
      task = std::move(worker->queue.front());
      worker->queue.pop_front();
    }
    task();
  }
}

}  // namespace vmm::testing
