// vmm vz (Objective-C++ only): the objects VZ calls back. VZ holds delegates weakly, so the
// engine keeps each of them strongly for as long as VZ may call it.
#pragma once

#import <Foundation/Foundation.h>
#import <Virtualization/Virtualization.h>

#include <functional>
#include <memory>

#include "vmm/file_descriptor.hpp"
#include "vz/engine_link.hpp"

// The VM's delegate, and the observer of its `state` (KVO). Events go to the EngineLink, which
// delivers them off the VM's queue.
API_AVAILABLE(macos(13.0))
@interface VmmVZMachineObserver : NSObject <VZVirtualMachineDelegate>
- (instancetype)initWithLink:(std::shared_ptr<vmm::vz::EngineLink>)link NS_DESIGNATED_INITIALIZER;
- (instancetype)init NS_UNAVAILABLE;
// Both on the VM's queue: KVO registration must not race the state changes it observes.
- (void)startObserving:(VZVirtualMachine*)machine;
- (void)stopObserving:(VZVirtualMachine*)machine;
@end

// Accepts guest connections to one vsock port, handing each as an owned, dup'ed descriptor.
API_AVAILABLE(macos(13.0))
@interface VmmVZVsockAcceptor : NSObject <VZVirtioSocketListenerDelegate>
- (instancetype)initWithLink:(std::shared_ptr<vmm::vz::EngineLink>)link
                     handler:(std::function<void(vmm::FileDescriptor)>)handler
    NS_DESIGNATED_INITIALIZER;
- (instancetype)init NS_UNAVAILABLE;
@end
