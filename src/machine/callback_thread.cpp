// vmm internal: the VM's callback thread.
#include "machine/callback_thread.hpp"

#include <spdlog/spdlog.h>

#include <exception>
#include <utility>

#include "vmm/logging.hpp"
#include "runtime/posix.hpp"

namespace vmm::detail {

CallbackThread::CallbackThread() : thread_([queue = queue_] { run(queue); }) {
  id_ = thread_.get_id();
}

CallbackThread::~CallbackThread() { shut_down(); }

void CallbackThread::post(std::function<void()> task) {
  {
    std::lock_guard lock(queue_->mutex);
    queue_->tasks.push_back(std::move(task));
  }
  queue_->wake.notify_one();
}

bool CallbackThread::on_this_thread() const { return std::this_thread::get_id() == id_; }

void CallbackThread::shut_down() {
  {
    std::lock_guard lock(queue_->mutex);
    queue_->stopping = true;
  }
  queue_->wake.notify_one();
  // The last reference to the VM may be dropped inside one of its callbacks: joining would wait
  // for ourselves, so the thread is detached then; it keeps the queue alive and exits once the
  // queue is empty.
  join_or_detach(thread_);
}

void CallbackThread::run(const std::shared_ptr<Queue>& queue) {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(queue->mutex);
      queue->wake.wait(lock, [&] { return queue->stopping || !queue->tasks.empty(); });
      if (queue->tasks.empty()) return;  // stopping, and nothing left to deliver
      task = std::move(queue->tasks.front());
      queue->tasks.pop_front();
    }
    try {
      task();
    } catch (const std::exception& e) {
      // A throwing user callback must not take the other callbacks (or the process) with it.
      logger()->error("vmm: a state observer or completion threw: {}", e.what());
    } catch (...) {
      logger()->error("vmm: a state observer or completion threw a non-standard exception");
    }
    // Destroy the task (and whatever it captured, possibly the last VirtualMachine reference)
    // before taking the lock again.
    task = nullptr;
  }
}

}  // namespace vmm::detail
