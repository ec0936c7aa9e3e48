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

void CallbackThread::post_while_open(std::function<void()> task) {
  post([weak = std::weak_ptr<Queue>(queue_), task = std::move(task)] {
    const auto queue = weak.lock();
    if (!queue) return;
    {
      std::lock_guard lock(queue->mutex);
      if (!queue->open) return;
    }
    task();
  });
}

void CallbackThread::close() {
  std::lock_guard lock(queue_->mutex);
  queue_->open = false;
}

std::function<void(std::string_view)> deliver_lines_on(const std::shared_ptr<CallbackThread>& thread,
                                                      std::function<void(std::string_view)> sink) {
  if (!sink) return {};
  return [weak = std::weak_ptr<CallbackThread>(thread),
          sink = std::make_shared<std::function<void(std::string_view)>>(std::move(sink))](
             std::string_view line) {
    if (const auto target = weak.lock()) {
      target->post_while_open([sink, text = std::string(line)] { (*sink)(text); });
    }
  };
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
