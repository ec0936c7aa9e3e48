// vmm: VirtualMachine, the public face of VirtualMachine::Impl.
#include "vmm/virtual_machine.hpp"

#include <utility>

#include "machine/backends.hpp"
#include "machine/virtual_machine_impl.hpp"
#include "runtime/work_directory.hpp"

namespace vmm {

namespace {

using detail::Operation;

// The future forms: a completion that fulfils a promise. The core completes every operation
// exactly once, destruction included, so the promise is never left broken. The lifecycle and
// snapshot futures skip the callback thread when no observer is registered (Impl::Delivery).
template <typename T>
std::pair<std::function<void(Result<T>)>, std::future<Result<T>>> promised() {
  auto promise = std::make_shared<std::promise<Result<T>>>();
  auto future = promise->get_future();
  return {[promise](Result<T> result) { promise->set_value(std::move(result)); },
          std::move(future)};
}

}  // namespace

Result<std::shared_ptr<VirtualMachine>> VirtualMachine::create(VmConfig config,
                                                                CreateOptions options) {
  const Backend backend = detail::resolve_backend(options.backend);
  if (options.file_backed_memory && backend != Backend::qemu) {
    return make_error(Errc::unsupported,
                      "file_backed_memory: only the QEMU backend runs guest RAM from a file "
                      "(Virtualization.framework allocates guest memory itself)");
  }
  auto work_dir = detail::WorkDirectory::prepare(options.working_directory);
  if (!work_dir) return std::move(work_dir).error();
  // The callback thread exists before the engine: the engine gets a console sink that only
  // posts to it, never the user's own callback.
  auto callbacks = std::make_shared<detail::CallbackThread>();
  options.on_console_line = detail::deliver_lines_on(callbacks, std::move(options.on_console_line));
  auto engine = detail::make_engine(backend, config, options, work_dir->path());
  if (!engine) return std::move(engine).error();  // an owned work_dir removes itself
  return detail::make_virtual_machine(std::move(*engine), backend, std::move(*work_dir),
                                      std::move(callbacks));
}

VirtualMachine::VirtualMachine(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

VirtualMachine::~VirtualMachine() {
  if (impl_) impl_->shut_down();
}

VmState VirtualMachine::state() const { return impl_->state(); }
std::optional<Error> VirtualMachine::last_error() const { return impl_->last_error(); }
const VmConfig& VirtualMachine::config() const { return impl_->config(); }
Backend VirtualMachine::backend() const { return impl_->backend(); }
std::optional<std::filesystem::path> VirtualMachine::log_path() const {
  return impl_->log_path();
}
VmMetrics VirtualMachine::metrics() const { return impl_->metrics(); }
Acceleration VirtualMachine::acceleration() const { return impl_->acceleration(); }

Subscription VirtualMachine::on_state_change(std::function<void(const StateChange&)> observer) {
  return impl_->on_state_change(std::move(observer));
}

void VirtualMachine::start(Completion done) {
  impl_->run(Operation::start, &detail::Engine::start, std::move(done));
}
void VirtualMachine::pause(Completion done) {
  impl_->run(Operation::pause, &detail::Engine::pause, std::move(done));
}
void VirtualMachine::resume(Completion done) {
  impl_->run(Operation::resume, &detail::Engine::resume, std::move(done));
}
void VirtualMachine::stop(Completion done) {
  impl_->run(Operation::stop, &detail::Engine::stop, std::move(done));
}
void VirtualMachine::request_stop(Completion done) {
  impl_->run(Operation::request_stop, &detail::Engine::request_stop, std::move(done));
}
void VirtualMachine::save(std::filesystem::path bundle, Completion done) {
  impl_->save(std::move(bundle), std::move(done));
}
void VirtualMachine::restore(std::filesystem::path bundle, Completion done) {
  impl_->restore(std::move(bundle), std::move(done));
}
void VirtualMachine::save_template(std::filesystem::path bundle, Completion done) {
  impl_->save(std::move(bundle), std::move(done), detail::SaveKind::template_bundle);
}

std::future<Result<void>> VirtualMachine::start() {
  auto [done, future] = promised<void>();
  impl_->run(Operation::start, &detail::Engine::start, std::move(done),
             Impl::Delivery::direct);
  return std::move(future);
}
std::future<Result<void>> VirtualMachine::pause() {
  auto [done, future] = promised<void>();
  impl_->run(Operation::pause, &detail::Engine::pause, std::move(done),
             Impl::Delivery::direct);
  return std::move(future);
}
std::future<Result<void>> VirtualMachine::resume() {
  auto [done, future] = promised<void>();
  impl_->run(Operation::resume, &detail::Engine::resume, std::move(done),
             Impl::Delivery::direct);
  return std::move(future);
}
std::future<Result<void>> VirtualMachine::stop() {
  auto [done, future] = promised<void>();
  impl_->run(Operation::stop, &detail::Engine::stop, std::move(done),
             Impl::Delivery::direct);
  return std::move(future);
}
std::future<Result<void>> VirtualMachine::request_stop() {
  auto [done, future] = promised<void>();
  impl_->run(Operation::request_stop, &detail::Engine::request_stop, std::move(done),
             Impl::Delivery::direct);
  return std::move(future);
}
std::future<Result<void>> VirtualMachine::save(std::filesystem::path bundle) {
  auto [done, future] = promised<void>();
  impl_->save(std::move(bundle), std::move(done), detail::SaveKind::full,
              Impl::Delivery::direct);
  return std::move(future);
}
std::future<Result<void>> VirtualMachine::restore(std::filesystem::path bundle) {
  auto [done, future] = promised<void>();
  impl_->restore(std::move(bundle), std::move(done), Impl::Delivery::direct);
  return std::move(future);
}
std::future<Result<void>> VirtualMachine::save_template(std::filesystem::path bundle) {
  auto [done, future] = promised<void>();
  impl_->save(std::move(bundle), std::move(done), detail::SaveKind::template_bundle,
              Impl::Delivery::direct);
  return std::move(future);
}

void VirtualMachine::connect_vsock(std::uint32_t port,
                                   std::function<void(Result<FileDescriptor>)> done) {
  impl_->connect_vsock(port, std::move(done));
}
std::future<Result<FileDescriptor>> VirtualMachine::connect_vsock(std::uint32_t port) {
  auto [done, future] = promised<FileDescriptor>();
  connect_vsock(port, std::move(done));
  return std::move(future);
}
Result<Subscription> VirtualMachine::listen_vsock(
    std::uint32_t port, std::function<void(FileDescriptor)> on_connection) {
  return impl_->listen_vsock(port, std::move(on_connection));
}

Result<FileDescriptor> VirtualMachine::console_port(std::string_view name) {
  return impl_->console_port(name);
}

Result<std::vector<GuestAddress>> VirtualMachine::guest_addresses() const {
  return impl_->guest_addresses();
}

void VirtualMachine::set_memory_target(Size target, Completion done) {
  impl_->set_memory_target(target, std::move(done));
}
std::future<Result<void>> VirtualMachine::set_memory_target(Size target) {
  auto [done, future] = promised<void>();
  set_memory_target(target, std::move(done));
  return std::move(future);
}
void VirtualMachine::memory_balloon(std::function<void(Result<MemoryBalloonInfo>)> done) {
  impl_->memory_balloon(std::move(done));
}
std::future<Result<MemoryBalloonInfo>> VirtualMachine::memory_balloon() {
  auto [done, future] = promised<MemoryBalloonInfo>();
  memory_balloon(std::move(done));
  return std::move(future);
}

void VirtualMachine::sync_guest_time(Completion done) { impl_->sync_guest_time(std::move(done)); }
std::future<Result<void>> VirtualMachine::sync_guest_time() {
  auto [done, future] = promised<void>();
  sync_guest_time(std::move(done));
  return std::move(future);
}

}  // namespace vmm
