// vmm internal: the guest clock's worker (see guest_clock.hpp).
#include "machine/guest_clock.hpp"

#include <signal.h>

#include <utility>

#include "runtime/guest_agent_client.hpp"
#include "runtime/posix.hpp"

namespace vmm::detail {

GuestClock::GuestClock(std::chrono::milliseconds reply_timeout) : reply_timeout_(reply_timeout) {}

GuestClock::~GuestClock() { stop(); }

void GuestClock::sync(OpenChannel open, Done done) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      queue_.push_back({std::move(open), std::move(done)});
      if (!thread_.joinable()) thread_ = std::thread([this] { work(); });
      wake_.notify_one();
      return;
    }
  }
  if (done) done(Error(Errc::cancelled, "guest clock: the VM is being destroyed"));
}

void GuestClock::stop() {
  std::deque<Request> dropped;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    cancel_ = true;
    dropped.swap(queue_);
    wake_.notify_one();
  }
  for (auto& request : dropped) {
    if (request.done) request.done(Error(Errc::cancelled, "guest clock: the VM is being destroyed"));
  }
  join_or_detach(thread_);
}

void GuestClock::work() {
  // A guest that closes its end mid-write must not kill the process (platforms without
  // MSG_NOSIGNAL, see guest_agent_client.hpp): this thread never takes SIGPIPE.
  sigset_t pipe_signal;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
  while (true) {
    Request request;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      request = std::move(queue_.front());
      queue_.pop_front();
    }
    Result<void> result;
    if (auto channel = request.open(); !channel) {
      result = std::move(channel).error();
    } else {
      result = sync_guest_time_to_host(channel->get(),
                                       {.reply_timeout = reply_timeout_, .cancel = &cancel_});
    }
    if (request.done) request.done(std::move(result));
  }
}

}  // namespace vmm::detail
