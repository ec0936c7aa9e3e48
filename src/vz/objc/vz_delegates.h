// vmm vz (Objective-C++ only): the objects VZ calls back. VZ holds delegates weakly, so the
// engine keeps each of them strongly for as long as VZ may call it.
#pragma once

#import <Foundation/Foundation.h>
#import <Virtualization/Virtualization.h>

#include <functional>
#include <memory>

#include "vmm/file_descriptor.hpp"
#include "vz/engine_link.hpp"

// The VM's delegate. VZ calls it on the VM's queue; events go through the EngineLink straight to
// the core, which hands them to the VM's callback thread. The core keeps the authoritative
// state, so the VM's `state` is not mirrored (no KVO).
API_AVAILABLE(macos(13.0))
@interface VmmVZMachineDelegate : NSObject <VZVirtualMachineDelegate>
- (instancetype)initWithLink:(std::shared_ptr<vmm::vz::EngineLink>)link NS_DESIGNATED_INITIALIZER;
- (instancetype)init NS_UNAVAILABLE;
@end

// Accepts guest connections to one vsock port, handing each as an owned, dup'ed descriptor.
API_AVAILABLE(macos(13.0))
@interface VmmVZVsockAcceptor : NSObject <VZVirtioSocketListenerDelegate>
- (instancetype)initWithLink:(std::shared_ptr<vmm::vz::EngineLink>)link
                     handler:(std::function<void(vmm::FileDescriptor)>)handler
    NS_DESIGNATED_INITIALIZER;
- (instancetype)init NS_UNAVAILABLE;
@end
