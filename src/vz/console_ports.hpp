// vmm vz: the channels behind console ports, as portable C++ (the .mm only wraps them).
//
// Each port gets a connected stream socketpair when the VM object is made: VZ's end is given to
// a VZFileHandleSerialPortAttachment as two descriptors (reading and writing, each owned by its
// NSFileHandle), the host end stays with the engine, which hands out dups. VZ copies the
// configuration at creation, so on VZ the same channel serves every run of the VM.
#pragma once

#include <cstddef>
#include <vector>

#include "vmm/error.hpp"
#include "vmm/file_descriptor.hpp"

namespace vmm::vz {

struct ConsolePortChannel {
  FileDescriptor host;       // the engine keeps it; console_port() dups it
  FileDescriptor vm_read;    // for VZ's fileHandleForReading (what the guest receives)
  FileDescriptor vm_write;   // for VZ's fileHandleForWriting (what the guest sends)
};

// One channel per port; `io` naming the port on failure.
Result<std::vector<ConsolePortChannel>> make_console_port_channels(std::size_t count);

// A new descriptor on hosts[index], close-on-exec; invalid_state when there is none.
Result<FileDescriptor> dup_console_port(const std::vector<FileDescriptor>& hosts,
                                        std::size_t index);

}  // namespace vmm::vz
