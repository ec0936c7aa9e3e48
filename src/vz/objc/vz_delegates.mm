#import "vz/objc/vz_delegates.h"

#include <fcntl.h>
#include <spdlog/logger.h>

#include <utility>

#include "vmm/logging.hpp"
#import "vz/objc/objc_support.h"

@implementation VmmVZMachineDelegate {
  std::shared_ptr<vmm::vz::EngineLink> _link;
}

- (instancetype)initWithLink:(std::shared_ptr<vmm::vz::EngineLink>)link {
  self = [super init];
  if (self != nil) _link = std::move(link);
  return self;
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
