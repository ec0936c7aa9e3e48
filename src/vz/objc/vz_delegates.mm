#import "vz/objc/vz_delegates.h"

#include <fcntl.h>
#include <spdlog/logger.h>

#include <utility>

#include "vmm/logging.hpp"
#include "vz/vz_state.hpp"
#import "vz/objc/objc_support.h"

namespace {
// Identifies this file's KVO registration among any others on the same object.
char state_context_tag;
void* const state_context = &state_context_tag;
}  // namespace

@implementation VmmVZMachineObserver {
  std::shared_ptr<vmm::vz::EngineLink> _link;
}

- (instancetype)initWithLink:(std::shared_ptr<vmm::vz::EngineLink>)link {
  self = [super init];
  if (self != nil) _link = std::move(link);
  return self;
}

- (void)startObserving:(VZVirtualMachine*)machine {
  [machine addObserver:self
            forKeyPath:@"state"
               options:NSKeyValueObservingOptionInitial | NSKeyValueObservingOptionNew
               context:state_context];
}

- (void)stopObserving:(VZVirtualMachine*)machine {
  [machine removeObserver:self forKeyPath:@"state" context:state_context];
}

- (void)observeValueForKeyPath:(NSString*)keyPath
                      ofObject:(id)object
                        change:(NSDictionary<NSKeyValueChangeKey, id>*)change
                       context:(void*)context {
  if (context != state_context) {
    [super observeValueForKeyPath:keyPath ofObject:object change:change context:context];
    return;
  }
  NSNumber* value = change[NSKeyValueChangeNewKey];
  if (![value isKindOfClass:[NSNumber class]]) return;
  if (const auto state = vmm::vz::vm_state_from_vz(static_cast<long>(value.integerValue))) {
    // The core keeps the authoritative state; this copy serves code off the VM's queue and the
    // log, which is where a state VZ reached on its own first shows.
    _link->set_observed_state(*state);
    vmm::logger()->debug("vz: the virtual machine is {}", vmm::to_string(*state));
  }
}

- (void)guestDidStopVirtualMachine:(VZVirtualMachine*)virtualMachine {
  (void)virtualMachine;
  _link->guest_stopped();
}

- (void)virtualMachine:(VZVirtualMachine*)virtualMachine didStopWithError:(NSError*)error {
  (void)virtualMachine;
  _link->engine_failed(vmm::vz::objc::error_from(error, "the virtual machine stopped"));
}

// The VM goes on without that network; the caller learns it from the log.
- (void)virtualMachine:(VZVirtualMachine*)virtualMachine
                     networkDevice:(VZNetworkDevice*)networkDevice
    attachmentWasDisconnectedWithError:(NSError*)error {
  (void)virtualMachine;
  (void)networkDevice;
  vmm::logger()->warn("vz: a network attachment was disconnected: {}",
                      vmm::vz::objc::error_from(error, "network").message());
}

@end

@implementation VmmVZVsockAcceptor {
  std::shared_ptr<vmm::vz::EngineLink> _link;
  std::function<void(vmm::FileDescriptor)> _handler;
}

- (instancetype)initWithLink:(std::shared_ptr<vmm::vz::EngineLink>)link
                     handler:(std::function<void(vmm::FileDescriptor)>)handler {
  self = [super init];
  if (self != nil) {
    _link = std::move(link);
    _handler = std::move(handler);
  }
  return self;
}

- (BOOL)listener:(VZVirtioSocketListener*)listener
    shouldAcceptNewConnection:(VZVirtioSocketConnection*)connection
             fromSocketDevice:(VZVirtioSocketDevice*)socketDevice {
  (void)listener;
  (void)socketDevice;
  // The connection object closes its own descriptor when released: the caller gets a duplicate.
  const int fd = ::fcntl(connection.fileDescriptor, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return NO;
  _link->deliver_connection(_handler, fd);
  return YES;
}

@end
