// vmm internal: the one library thread on which a VM's observers and completions run.
//
// Why a thread of its own: callbacks then never run on a caller's thread inside start() (where
// the caller may hold its own locks), never on a hypervisor thread (which a callback could
// otherwise block), and always one at a time in the order they were posted, which is what keeps
// state notifications in transition order.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace vmm::detail {

class CallbackThread {
 public:
  CallbackThread();
  // Calls shut_down().
  ~CallbackThread();
  CallbackThread(const CallbackThread&) = delete;
  CallbackThread& operator=(const CallbackThread&) = delete;

  // Queues `task`; tasks run in posting order. Never runs the task on the caller's thread.
  void post(std::function<void()> task);

  // Lets the queued tasks run, then ends the thread. From another thread this waits for it
  // (so do not call it while holding a lock a callback needs); from a callback on the thread
  // itself it cannot wait, so the thread finishes the queue on its own and exits.
  void shut_down();

  bool on_this_thread() const;

 private:
  struct Queue {
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<std::function<void()>> tasks;
    bool stopping = false;
  };
  // Shared with the thread so that it can outlive this object when shut down from inside.
  static void run(const std::shared_ptr<Queue>& queue);

  std::shared_ptr<Queue> queue_ = std::make_shared<Queue>();
  std::thread thread_;
  std::thread::id id_;
};

}  // namespace vmm::detail
