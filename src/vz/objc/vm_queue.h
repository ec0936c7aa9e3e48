// vmm vz (Objective-C++ only): the one bridge onto a VM's serial queue. Every call on a
// VZVirtualMachine and on the devices taken from it goes through on_queue(), or call_on_queue()
// when the caller needs the answer before returning. Both run the call inside @try, so that an
// Objective-C exception from the framework (a bad argument, a call VZ refuses) becomes a
// vmm::Error rather than ending the process (see the threading rules in
// /work/shared/reference/virtualization-framework.md).
#pragma once

#import <Foundation/Foundation.h>

#include <dispatch/dispatch.h>

#include <functional>
#include <optional>
#include <string>

#include "vmm/error.hpp"

namespace vmm::vz::objc {

// A new serial queue for one VM, tagged with `owner` so that on_own_queue(owner) can tell.
dispatch_queue_t make_vm_queue(void* owner);
// Whether the caller runs on the queue made for `owner`.
bool on_own_queue(const void* owner);

// Runs `body` on `queue` (dispatch_async, never waits). An exception from it is handed to
// `failed` as an error "<what>: ...", or logged as a warning when nobody waits for an answer.
void on_queue(dispatch_queue_t queue, std::string what, void (^body)(void),
              std::function<void(Error)> failed = nullptr);

// Like on_queue(), but waits up to 10 s for `body`'s answer (its error, or nullopt for
// success), for the few calls whose outcome the caller needs before returning. Runs inline when
// already on `owner`'s queue (inside a VZ callback), where waiting would deadlock. No answer in
// time is a `timeout` error, and `body` may still run later.
Result<void> call_on_queue(dispatch_queue_t queue, const void* owner, const std::string& what,
                           std::optional<Error> (^body)(void));

}  // namespace vmm::vz::objc
