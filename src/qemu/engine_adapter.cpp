// vmm internal (QEMU backend): the detail::Engine adapter over a Core (core.hpp). Each
// operation is a task on the Core's worker, except pause, resume and request_stop, whose one
// QMP command the caller's thread sends itself when it can (Core::send_now).
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "qemu/core.hpp"
#include "qemu/qemu_engine.hpp"

namespace vmm::qemu {

namespace {

class QemuEngine final : public detail::Engine {
 public:
  explicit QemuEngine(std::shared_ptr<Core> core) : core_(std::move(core)) {}
  ~QemuEngine() override { core_->shutdown(); }
  QemuEngine(const QemuEngine&) = delete;
  QemuEngine& operator=(const QemuEngine&) = delete;

  std::string_view backend_name() const override { return to_string(Backend::qemu); }
  Acceleration acceleration() const override { return core_->host().acceleration; }
  const VmConfig& config() const override { return core_->config(); }
  void set_listener(std::weak_ptr<detail::EngineListener> listener) override {
    core_->set_listener(std::move(listener));
  }

  void start(Done done) override {
    run(std::move(done), [](Core& c) { return c.do_start(); });
  }
  // One QMP command each, sent from this thread (Core::send_now). The worker's do_simple() is
  // the way only when that cannot be: no run, or its QMP connection has ended. The command then
  // fails, so the bookkeeping around a real pause or resume (complete_sent) is not needed.
  void pause(Done done) override {
    if (core_->send_now("stop", done)) return;
    run(std::move(done), [](Core& c) { return c.do_simple("stop", "pause"); });
  }
  void resume(Done done) override {
    if (core_->send_now("cont", done)) return;
    run(std::move(done), [](Core& c) { return c.do_simple("cont", "resume"); });
  }
  void stop(Done done) override {
    run(std::move(done), [](Core& c) { return c.do_stop(); });
  }
  void request_stop(Done done) override {
    // ACPI power button; the guest decides. Its poweroff then ends QEMU (on_guest_stopped).
    if (core_->send_now("system_powerdown", done)) return;
    run(std::move(done), [](Core& c) { return c.do_simple("system_powerdown", "request_stop"); });
  }

  std::optional<std::filesystem::path> log_path() const override { return core_->log_path(); }
  VmMetrics metrics() const override { return core_->metrics(); }

  Result<void> check_save_support() const override {
    return check_qemu_save_support(core_->config());
  }
  std::string state_file_name() const override { return std::string(qemu::state_file_name); }
  std::optional<std::string> saved_state_digest() const override {
    return core_->saved_state_digest();
  }
  void save(const std::filesystem::path& state_file, Done done) override {
    run(std::move(done), [state_file](Core& c) { return c.do_save(state_file); });
  }
  void restore(const std::filesystem::path& state_file, Done done) override {
    run(std::move(done), [state_file](Core& c) { return c.do_restore(state_file); });
  }
  Result<void> check_template_support(bool saving) const override {
    return core_->check_template_support(saving);
  }
  void save_template(const std::filesystem::path& state_file,
                     const std::filesystem::path& memory_file, Done done) override {
    run(std::move(done), [state_file, memory_file](Core& c) {
      return c.do_save_template(state_file, memory_file);
    });
  }
  void prepare_clone(const std::filesystem::path& memory_file, Done done) override {
    run(std::move(done), [memory_file](Core& c) { return c.do_prepare_clone(memory_file); });
  }
  void restore_clone(const std::filesystem::path& state_file,
                     const std::filesystem::path& memory_file, Done done) override {
    run(std::move(done), [state_file, memory_file](Core& c) {
      return c.do_restore_clone(state_file, memory_file);
    });
  }

  // Whether the VM has a vsock device is decided once (detail::require_vsock_device,
  // config/config_facts.hpp), by the core before it calls these.
  void connect_vsock(std::uint32_t port,
                     std::function<void(Result<FileDescriptor>)> done) override {
    core_->post([core = core_.get(), port, done = std::move(done)] {
      auto fd = core->do_connect_vsock(port);
      core->deliver([&] { done(std::move(fd)); });
    });
  }
  Result<Subscription> listen_vsock(std::uint32_t port,
                                    std::function<void(FileDescriptor)> on_connection) override {
    return core_->do_listen_vsock(port, std::move(on_connection));
  }
  void set_memory_target(Size target, Done done) override {
    run(std::move(done), [target](Core& c) { return c.do_set_memory_target(target); });
  }
  void memory_balloon(std::function<void(Result<MemoryBalloonInfo>)> done) override {
    core_->post([core = core_.get(), done = std::move(done)] {
      auto info = core->do_memory_balloon();
      core->deliver([&] { done(std::move(info)); });
    });
  }
  Result<std::vector<GuestAddress>> guest_addresses() const override {
    return qemu_guest_addresses(core_->config());
  }
  Result<FileDescriptor> console_port(std::size_t index) override {
    return core_->do_console_port(index);
  }

 private:
  template <typename Op>
  void run(Done done, Op op) {
    core_->post([core = core_.get(), done = std::move(done), op = std::move(op)]() mutable {
      auto result = op(*core);
      core->deliver([&] { done(std::move(result)); });
    });
  }

  std::shared_ptr<Core> core_;
};

}  // namespace

std::unique_ptr<detail::Engine> make_engine(std::shared_ptr<Core> core) {
  return std::make_unique<QemuEngine>(std::move(core));
}

}  // namespace vmm::qemu
