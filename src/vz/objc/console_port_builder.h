// vmm vz (Objective-C++ only): Plan::console_ports -> one VZVirtioConsoleDeviceConfiguration.
#pragma once

#import <Virtualization/Virtualization.h>

#include <string>
#include <vector>

#include "vmm/error.hpp"
#include "vmm/file_descriptor.hpp"

namespace vmm::vz {

// A VZVirtioConsolePortConfiguration per name, at index 0, 1, ..., each over a
// VZFileHandleSerialPortAttachment on its channel (console_ports.hpp). The host ends are
// appended to `host_ends`, in port order.
API_AVAILABLE(macos(13.0))
Result<VZVirtioConsoleDeviceConfiguration*> make_console_device(
    const std::vector<std::string>& names, std::vector<FileDescriptor>& host_ends);

}  // namespace vmm::vz
