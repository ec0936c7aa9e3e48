// vmm internal: VirtualMachine's memory balloon controls. The core refuses what it can decide
// (no balloon, wrong state, a target against the rules of memory_target.hpp) at once; the
// engine's answer is posted to the callback thread like every other result.
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "machine/callback_thread.hpp"
#include "machine/memory_target.hpp"
#include "machine/virtual_machine_impl.hpp"

namespace vmm {

namespace {

// Where a result of an engine goes: the VM's callback thread, if it still runs.
template <typename T>
std::function<void(T)> on_callback_thread(std::weak_ptr<detail::CallbackThread> callbacks,
                                          std::function<void(T)> user) {
  auto shared_user = std::make_shared<std::function<void(T)>>(std::move(user));
  return [callbacks = std::move(callbacks), shared_user](T result) {
    const auto thread = callbacks.lock();
    if (!thread || !*shared_user) return;
    auto shared = std::make_shared<T>(std::move(result));
    thread->post([shared_user, shared] { (*shared_user)(std::move(*shared)); });
  };
}

}  // namespace

detail::Engine* VirtualMachine::Impl::balloon_engine(const char* what,
                                                     std::optional<Error>& refusal) {
  std::lock_guard lock(mutex_);
  if (!config_.balloon()) {
    refusal.emplace(Errc::invalid_config,
                    std::string(what) + ": the VM has no memory balloon (VmConfigBuilder::balloon)");
    return nullptr;
  }
  if (closed_ || (state_ != VmState::running && state_ != VmState::paused)) {
    refusal.emplace(Errc::invalid_state, std::string(what) + ": not allowed while the VM is " +
                                             std::string(to_string(state_)));
    return nullptr;
  }
  return engine_.get();
}

void VirtualMachine::Impl::set_memory_target(Size target, Completion done) {
  std::optional<Error> refusal;
  detail::Engine* engine = balloon_engine("set_memory_target", refusal);
  if (engine != nullptr) {
    auto checked = detail::check_memory_target(config_.memory(), target,
                                               engine->memory_target_in_whole_mib());
    if (!checked) refusal.emplace(checked.error());
  }
  if (refusal) {
    if (done) done(Result<void>(std::move(*refusal)));
    return;
  }
  engine->set_memory_target(target, on_callback_thread<Result<void>>(callbacks_, std::move(done)));
}

void VirtualMachine::Impl::memory_balloon(std::function<void(Result<MemoryBalloonInfo>)> done) {
  std::optional<Error> refusal;
  detail::Engine* engine = balloon_engine("memory_balloon", refusal);
  if (refusal) {
    if (done) done(Result<MemoryBalloonInfo>(std::move(*refusal)));
    return;
  }
  engine->memory_balloon(
      on_callback_thread<Result<MemoryBalloonInfo>>(callbacks_, std::move(done)));
}

}  // namespace vmm
