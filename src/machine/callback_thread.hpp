// vmm internal: the one library thread on which every user callback of a VM runs: observers,
// completions, connect_vsock results, listen_vsock connections and console lines.
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
#include <string>
#include <string_view>
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
  // Like post(), but the task is dropped if close() comes first, even when it is already
  // queued: for deliveries that must not reach the user once the VM is being destroyed
  // (console lines, vsock connections).
  void post_while_open(std::function<void()> task);
  // From now on post_while_open() tasks are dropped; post() tasks still run.
  void close();

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
    bool open = true;  // see close()
  };
  // Shared with the thread so that it can outlive this object when shut down from inside.
  static void run(const std::shared_ptr<Queue>& queue);

  std::shared_ptr<Queue> queue_ = std::make_shared<Queue>();
  std::thread thread_;
  std::thread::id id_;
};

// The console-line sink handed to a backend in place of CreateOptions::on_console_line: each line
// is copied and delivered to `sink` on `thread` while it is open, so that backends never call
// user code and lines keep their order with the VM's other callbacks.
std::function<void(std::string_view line)> deliver_lines_on(
    const std::shared_ptr<CallbackThread>& thread, std::function<void(std::string_view)> sink);

}  // namespace vmm::detail
