// vmm vz (Objective-C++ only): Plan -> VZVirtualMachineConfiguration, one function per device
// kind, each building exactly the object the plan names. No decisions here: they are in plan.cpp.
#pragma once

#import <CoreFoundation/CoreFoundation.h>
#import <Virtualization/Virtualization.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "vmm/error.hpp"
#include "vmm/file_descriptor.hpp"
#include "vz/plan.hpp"

namespace vmm::vz {

// vmnet networks are CoreFoundation-released objects; their reservation lasts as long as they do.
struct CfReleaser {
  void operator()(const void* object) const {
    if (object != nullptr) CFRelease(object);
  }
};
using CfOwned = std::unique_ptr<const void, CfReleaser>;

// The configuration and what must live as long as the VM that uses it.
struct BuiltConfiguration {
  VZVirtualMachineConfiguration* configuration = nil;
  // The dataRepresentation of a machine identifier made here (plan said "generate").
  std::optional<std::vector<std::uint8_t>> generated_machine_identifier;
  // The backend's own datagram sockets (UnixDatagramNetwork) and their bound paths.
  std::vector<FileDescriptor> network_sockets;
  std::vector<std::filesystem::path> socket_paths;
  // For a SerialPipePlan: the pipe's read end and the tee descriptor for the ConsoleReader.
  FileDescriptor console_read_end;
  FileDescriptor console_tee;
  std::vector<CfOwned> vmnet_networks;
  // The host ends of the console ports, in port order (console_ports.hpp).
  std::vector<FileDescriptor> console_ports;

  BuiltConfiguration() = default;
  BuiltConfiguration(BuiltConfiguration&&) = default;
  BuiltConfiguration& operator=(BuiltConfiguration&&) = default;
  // Unlinks the socket paths bound for this VM.
  ~BuiltConfiguration();
};

// Builds every device, then -validateWithError:. NSErrors and Objective-C exceptions come back
// as vmm::Error (a missing entitlement names com.apple.security.virtualization).
API_AVAILABLE(macos(13.0))
Result<BuiltConfiguration> build_configuration(const Plan& plan);

}  // namespace vmm::vz
