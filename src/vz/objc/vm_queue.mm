#import "vz/objc/vm_queue.h"

#include <spdlog/logger.h>

#include <cstdint>
#include <memory>
#include <utility>

#include "vmm/logging.hpp"
#import "vz/objc/objc_support.h"

namespace vmm::vz::objc {
namespace {

// The key of the tag make_vm_queue() puts on each VM queue.
char queue_key;
// How long call_on_queue() waits for the VM's queue.
constexpr std::int64_t queue_timeout_ns = 10 * static_cast<std::int64_t>(NSEC_PER_SEC);

// `body` inside @try: an exception becomes `failed`'s error, or a warning in the log.
void run_guarded(const std::string& what, void (^body)(void),
                 const std::function<void(Error)>& failed) {
  @try {
    body();
  } @catch (NSException* exception) {
    Error error = error_from(exception, what);
    if (failed) {
      failed(std::move(error));
    } else {
      vmm::logger()->warn("vz: {}", error.message());
    }
  }
}

}  // namespace

dispatch_queue_t make_vm_queue(void* owner) {
  dispatch_queue_t queue = dispatch_queue_create("vmm.vz.machine", DISPATCH_QUEUE_SERIAL);
  dispatch_queue_set_specific(queue, &queue_key, owner, nullptr);
  return queue;
}

bool on_own_queue(const void* owner) { return dispatch_get_specific(&queue_key) == owner; }

void on_queue(dispatch_queue_t queue, std::string what, void (^body)(void),
              std::function<void(Error)> failed) {
  // The block keeps its own copies of `what` and `failed`.
  dispatch_async(queue, ^{
    run_guarded(what, body, failed);
  });
}

Result<void> call_on_queue(dispatch_queue_t queue, const void* owner, const std::string& what,
                           std::optional<Error> (^body)(void)) {
  auto outcome = std::make_shared<std::optional<Error>>();
  dispatch_semaphore_t answered = dispatch_semaphore_create(0);
  // A copy, not the caller's reference: after a timeout the block may run after we returned.
  const std::string context = what;
  void (^step)(void) = ^{
    run_guarded(
        context,
        ^{
          *outcome = body();
        },
        [outcome](Error error) { *outcome = std::move(error); });
    dispatch_semaphore_signal(answered);
  };
  if (on_own_queue(owner)) {
    step();
  } else {
    dispatch_async(queue, step);
    if (dispatch_semaphore_wait(answered, dispatch_time(DISPATCH_TIME_NOW, queue_timeout_ns)) != 0) {
      return make_error(Errc::timeout,
                        what + ": the virtual machine's queue did not answer within 10 s");
    }
  }
  if (*outcome) return **outcome;
  return {};
}

}  // namespace vmm::vz::objc
