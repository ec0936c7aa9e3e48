// vmm internal (QEMU backend): one-command operations written from the caller's thread (see
// Core::send_now in core.hpp), their replies completed on the worker.
#include <memory>
#include <string>
#include <utility>

#include "qemu/core.hpp"

namespace vmm::qemu {

using nlohmann::json;

bool Core::send_now(std::string_view command, detail::Engine::Done& done) {
  // Under mutex_: teardown_run() clears connected_run_ under it before the Run goes, so the
  // Run and its QMP client outlive this call.
  std::lock_guard lock(mutex_);
  if (closing_ || connected_run_ == nullptr) return false;
  Run& run = *connected_run_;
  const bool pausing = command == "stop";
  // QEMU sends STOP before the reply to `stop`; the worker must know that STOP is ours.
  if (pausing) run.set_own_stop(true);
  // The Done travels in the reply handler; if the command is not sent, it comes back here.
  auto kept = std::make_shared<detail::Engine::Done>(std::move(done));
  std::weak_ptr<Core> weak = weak_from_this();
  auto sent = run.qmp().send_command(
      command,
      [weak, kept, generation = run.generation(),
       command = std::string(command)](Result<json> reply) {
        // Inside the QMP client: on the worker, or in the run's teardown. A Core being
        // destroyed has no one left to tell.
        if (auto core = weak.lock()) {
          core->complete_sent(generation, command, std::move(reply), std::move(*kept));
        }
      },
      command_timeout);
  if (sent) {
    // Woken now, the worker is awake (spinning) when the reply comes, instead of being woken
    // by it: its wake-up overlaps QEMU's work on the command rather than following it.
    spin_until_ = std::chrono::steady_clock::now() + reply_spin_window;
    wake_worker();
    return true;
  }
  if (pausing) run.set_own_stop(false);
  done = std::move(*kept);
  return false;
}

void Core::complete_sent(std::uint64_t generation, std::string_view command,
                         Result<json> reply, detail::Engine::Done done) {
  // run_ is this command's run unless its teardown is what failed the command (run_ is
  // already empty then) or a later run started (generation).
  Run* run = run_ && run_->generation() == generation ? run_.get() : nullptr;
  if (run != nullptr && command == "stop") run->set_own_stop(false);
  // The guest runs again: the last save no longer describes it (and `cont` leaves QEMU's
  // post-migration state).
  if (run != nullptr && command == "cont") migration_.forget();
  if (reply) {
    deliver([&] { done({}); });
    return;
  }
  // As do_simple() reports it (the error names the command): with QEMU's exit if it died
  // meanwhile. That can wait for the exit, so it runs as a task of its own, after what the
  // worker is in the middle of (an exit being handled reports the VM's failure first).
  Error error = std::move(reply).error();
  post([this, generation, error = std::move(error), done = std::move(done)]() mutable {
    if (run_ && run_->generation() == generation) error = run_->with_exit_reason(std::move(error));
    deliver([&] { done(Unexpected(std::move(error))); });
  });
}

}  // namespace vmm::qemu
