// vmm vz: console ports. Straight-line: the channels are made in console_ports.cpp.
#include "vz/objc/console_port_builder.h"

#include "vz/console_ports.hpp"

namespace vmm::vz {

Result<VZVirtioConsoleDeviceConfiguration*> make_console_device(
    const std::vector<std::string>& names, std::vector<FileDescriptor>& host_ends) {
  auto channels = make_console_port_channels(names.size());
  if (!channels) return channels.error();
  VZVirtioConsoleDeviceConfiguration* device = [[VZVirtioConsoleDeviceConfiguration alloc] init];
  for (std::size_t i = 0; i < names.size(); ++i) {
    auto& channel = (*channels)[i];
    // Each NSFileHandle owns its descriptor: released with the VM, the guest side closes.
    NSFileHandle* reading =
        [[NSFileHandle alloc] initWithFileDescriptor:channel.vm_read.release() closeOnDealloc:YES];
    NSFileHandle* writing =
        [[NSFileHandle alloc] initWithFileDescriptor:channel.vm_write.release() closeOnDealloc:YES];
    VZVirtioConsolePortConfiguration* port = [[VZVirtioConsolePortConfiguration alloc] init];
    port.name = [NSString stringWithUTF8String:names[i].c_str()];
    port.attachment = [[VZFileHandleSerialPortAttachment alloc] initWithFileHandleForReading:reading
                                                                       fileHandleForWriting:writing];
    [device.ports setObject:port atIndexedSubscript:i];
    host_ends.push_back(std::move(channel.host));
  }
  return device;
}

}  // namespace vmm::vz
