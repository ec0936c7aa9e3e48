#import "vz/objc/configuration_builder.h"

#import <Foundation/Foundation.h>
#import <vmnet/vmnet.h>

#include <fcntl.h>
#include <netinet/in.h>

#include <cstring>
#include <string>
#include <system_error>
#include <utility>
#include <variant>

#include "vz/bridged_interface.hpp"
#include "vz/console_reader.hpp"
#include "vz/efi_store.hpp"
#include "vz/requirements.hpp"
#include "vz/sdk_capabilities.h"
#include "vz/unix_datagram.hpp"
#import "vz/objc/console_port_builder.h"
#import "vz/objc/objc_support.h"
#import "vz/objc/storage_builder.h"

namespace vmm::vz {
namespace {

using objc::error_from;
using objc::file_url;
using objc::to_ns;
using objc::to_std;

std::string quoted(const std::filesystem::path& path) { return "\"" + path.string() + "\""; }

// ---- boot -------------------------------------------------------------------------------------

API_AVAILABLE(macos(13.0))
Result<VZBootLoader*> make_linux_boot_loader(const LinuxBootPlan& boot) {
  VZLinuxBootLoader* loader = [[VZLinuxBootLoader alloc] initWithKernelURL:file_url(boot.kernel)];
  if (boot.initrd) loader.initialRamdiskURL = file_url(*boot.initrd);
  loader.commandLine = to_ns(boot.command_line);
  return loader;
}

API_AVAILABLE(macos(13.0))
Result<VZBootLoader*> make_efi_boot_loader(const EfiBootPlan& boot) {
  std::error_code ignored;
  auto action = efi_store_action(boot, std::filesystem::exists(boot.variable_store, ignored));
  if (!action) return action.error();
  VZEFIVariableStore* store = nil;
  if (*action == EfiStoreAction::open) {
    store = [[VZEFIVariableStore alloc] initWithURL:file_url(boot.variable_store)];
  } else {
    NSError* error = nil;
    store = [[VZEFIVariableStore alloc]
        initCreatingVariableStoreAtURL:file_url(boot.variable_store)
                               options:static_cast<VZEFIVariableStoreInitializationOptions>(0)
                                 error:&error];
    if (store == nil) {
      return error_from(error, "creating the EFI variable store " + quoted(boot.variable_store));
    }
  }
  VZEFIBootLoader* loader = [[VZEFIBootLoader alloc] init];
  loader.variableStore = store;
  return loader;
}

API_AVAILABLE(macos(13.0))
Result<VZBootLoader*> make_boot_loader(const BootPlan& boot) {
  if (const auto* linux_boot = std::get_if<LinuxBootPlan>(&boot)) {
    return make_linux_boot_loader(*linux_boot);
  }
  return make_efi_boot_loader(std::get<EfiBootPlan>(boot));
}

// ---- platform ---------------------------------------------------------------------------------

API_AVAILABLE(macos(13.0))
Result<VZPlatformConfiguration*> make_platform(const PlatformPlan& plan, BuiltConfiguration& built) {
  VZGenericPlatformConfiguration* platform = [[VZGenericPlatformConfiguration alloc] init];
  VZGenericMachineIdentifier* identifier = nil;
  if (plan.generate_machine_identifier) {
    identifier = [[VZGenericMachineIdentifier alloc] init];
    NSData* data = identifier.dataRepresentation;
    const auto* bytes = static_cast<const std::uint8_t*>(data.bytes);
    built.generated_machine_identifier = std::vector<std::uint8_t>(bytes, bytes + data.length);
  } else {
    NSData* data = [NSData dataWithBytes:plan.machine_identifier.data()
                                  length:plan.machine_identifier.size()];
    identifier = [[VZGenericMachineIdentifier alloc] initWithDataRepresentation:data];
    if (identifier == nil) {
      return make_error(Errc::invalid_config,
                        "machine_identifier: its " + std::to_string(plan.machine_identifier.size()) +
                            " bytes are not a Virtualization.framework machine identifier (one "
                            "saved from this backend's config is needed)");
    }
  }
  platform.machineIdentifier = identifier;
  if (plan.nested_virtualization) {
#if VMM_VZ_SDK_HAS_NESTED_VIRT
    if (@available(macOS 15, *)) {
      platform.nestedVirtualizationEnabled = YES;
    } else {
      return needs_macos("nested virtualization", macos_for_nested);
    }
#else
    // make_plan() refuses this first (require_sdk); kept so that no path reaches VZ without it.
    return sdk_too_old("nested virtualization needs", macos_for_nested, build_sdk_version());
#endif
  }
  return platform;
}

// ---- networks ---------------------------------------------------------------------------------

API_AVAILABLE(macos(13.0))
Result<VZNetworkDeviceAttachment*> make_bridged_attachment(const BridgedAttachmentPlan& plan) {
  NSArray<VZBridgedNetworkInterface*>* interfaces = VZBridgedNetworkInterface.networkInterfaces;
  std::vector<std::string> names;
  for (VZBridgedNetworkInterface* candidate in interfaces) {
    names.push_back(to_std(candidate.identifier));
  }
  auto index = find_bridged_interface(names, plan.interface);
  if (!index) return index.error();
  return [[VZBridgedNetworkDeviceAttachment alloc]
      initWithInterface:interfaces[static_cast<NSUInteger>(*index)]];
}

// A socket the VM sends frames on; the fd stays owned by the caller or by BuiltConfiguration.
API_AVAILABLE(macos(13.0))
VZNetworkDeviceAttachment* make_file_handle_attachment(int fd, std::uint32_t mtu) {
  NSFileHandle* handle = [[NSFileHandle alloc] initWithFileDescriptor:fd closeOnDealloc:NO];
  VZFileHandleNetworkDeviceAttachment* attachment =
      [[VZFileHandleNetworkDeviceAttachment alloc] initWithFileHandle:handle];
  attachment.maximumTransmissionUnit = static_cast<NSInteger>(mtu);
  return attachment;
}

API_AVAILABLE(macos(13.0))
Result<VZNetworkDeviceAttachment*> make_vmnet_attachment(const VmnetAttachmentPlan& plan,
                                                         BuiltConfiguration& built) {
#if VMM_VZ_SDK_HAS_VMNET_NETWORK
  if (@available(macOS 26, *)) {
    vmnet_return_t status = VMNET_SUCCESS;
    vmnet_network_configuration_ref configuration =
        vmnet_network_configuration_create(VMNET_SHARED_MODE, &status);
    if (configuration == nullptr) {
      return make_error(Errc::backend, "vmnet network: vmnet_network_configuration_create failed "
                                       "with status " + std::to_string(static_cast<int>(status)));
    }
    const CfOwned configuration_owner(configuration);
    if (plan.subnet) {
      in_addr address{};
      in_addr mask{};
      // Both arrays are in network byte order already, as in_addr wants.
      std::memcpy(&address.s_addr, plan.subnet->first_host.data(), sizeof(address.s_addr));
      std::memcpy(&mask.s_addr, plan.subnet->mask.data(), sizeof(mask.s_addr));
      status = vmnet_network_configuration_set_ipv4_subnet(configuration, &address, &mask);
      if (status != VMNET_SUCCESS) {
        return make_error(Errc::invalid_config,
                          "vmnet network: the subnet was refused with status " +
                              std::to_string(static_cast<int>(status)));
      }
    }
    vmnet_network_ref network = vmnet_network_create(configuration, &status);
    if (network == nullptr) {
      return make_error(Errc::backend, "vmnet network: vmnet_network_create failed with status " +
                                           std::to_string(static_cast<int>(status)));
    }
    built.vmnet_networks.emplace_back(network);
    return [[VZVmnetNetworkDeviceAttachment alloc] initWithNetwork:network];
  }
  return needs_macos("vmnet networks", macos_for_vmnet);
#else
  // make_plan() refuses this first (require_sdk); kept so that no path reaches VZ without it.
  (void)plan;
  (void)built;
  return sdk_too_old("vmnet networks need", macos_for_vmnet, build_sdk_version());
#endif
}

API_AVAILABLE(macos(13.0))
Result<VZNetworkDeviceAttachment*> make_network_attachment(const NetworkAttachmentPlan& plan,
                                                           BuiltConfiguration& built) {
  if (std::holds_alternative<NatAttachmentPlan>(plan)) {
    return [[VZNATNetworkDeviceAttachment alloc] init];
  }
  if (const auto* bridged = std::get_if<BridgedAttachmentPlan>(&plan)) {
    return make_bridged_attachment(*bridged);
  }
  if (const auto* file_handle = std::get_if<FileHandleAttachmentPlan>(&plan)) {
    return make_file_handle_attachment(file_handle->fd, file_handle->mtu);
  }
  if (const auto* unix_dgram = std::get_if<UnixDatagramAttachmentPlan>(&plan)) {
    auto socket = open_unix_datagram_socket(*unix_dgram);
    if (!socket) return socket.error();
    VZNetworkDeviceAttachment* attachment =
        make_file_handle_attachment(socket->get(), unix_dgram->mtu);
    built.network_sockets.push_back(std::move(*socket));
    built.socket_paths.push_back(unix_dgram->local);
    return attachment;
  }
  return make_vmnet_attachment(std::get<VmnetAttachmentPlan>(plan), built);
}

API_AVAILABLE(macos(13.0))
Result<VZNetworkDeviceConfiguration*> make_network_device(const NetworkPlan& plan,
                                                          BuiltConfiguration& built) {
  auto attachment = make_network_attachment(plan.attachment, built);
  if (!attachment) return attachment.error();
  VZMACAddress* mac = [[VZMACAddress alloc] initWithString:to_ns(plan.mac.to_string())];
  if (mac == nil) {
    return make_error(Errc::invalid_config, "network MAC " + plan.mac.to_string() +
                                                " was refused by Virtualization.framework");
  }
  VZVirtioNetworkDeviceConfiguration* device = [[VZVirtioNetworkDeviceConfiguration alloc] init];
  device.attachment = *attachment;
  device.MACAddress = mac;
  return device;
}

// ---- directory shares -------------------------------------------------------------------------

API_AVAILABLE(macos(13.0))
VZSharedDirectory* make_shared_directory(const SharedDirectory& directory) {
  return [[VZSharedDirectory alloc] initWithURL:objc::directory_url(directory.directory)
                                       readOnly:directory.read_only ? YES : NO];
}

API_AVAILABLE(macos(13.0))
Result<VZDirectorySharingDeviceConfiguration*> make_share_device(const VirtiofsShare& share) {
  const std::string what = "share \"" + share.tag + "\"";
  NSString* tag = to_ns(share.tag);
  NSError* error = nil;
  if (![VZVirtioFileSystemDeviceConfiguration validateTag:tag error:&error]) {
    return error_from(error, what);
  }
  VZVirtioFileSystemDeviceConfiguration* device =
      [[VZVirtioFileSystemDeviceConfiguration alloc] initWithTag:tag];
  if (const auto* single = std::get_if<SharedDirectory>(&share.source)) {
    device.share = [[VZSingleDirectoryShare alloc] initWithDirectory:make_shared_directory(*single)];
    return device;
  }
  NSMutableDictionary<NSString*, VZSharedDirectory*>* directories =
      [NSMutableDictionary dictionary];
  for (const auto& [name, directory] : std::get<1>(share.source)) {
    NSString* key = to_ns(name);
    if (![VZMultipleDirectoryShare validateName:key error:&error]) {
      return error_from(error, what + ": directory name \"" + name + "\"");
    }
    directories[key] = make_shared_directory(directory);
  }
  device.share = [[VZMultipleDirectoryShare alloc] initWithDirectories:directories];
  return device;
}

API_AVAILABLE(macos(13.0))
Result<VZDirectorySharingDeviceConfiguration*> make_rosetta_device(const std::string& tag) {
#if defined(__arm64__)
  NSError* error = nil;
  VZLinuxRosettaDirectoryShare* rosetta =
      [[VZLinuxRosettaDirectoryShare alloc] initWithError:&error];
  if (rosetta == nil) return error_from(error, "Rosetta directory share");
  VZVirtioFileSystemDeviceConfiguration* device =
      [[VZVirtioFileSystemDeviceConfiguration alloc] initWithTag:to_ns(tag)];
  device.share = rosetta;
  return device;
#else
  return make_error(Errc::unsupported,
                    "Rosetta directory share \"" + tag + "\": needs an arm64 build on Apple silicon");
#endif
}

// ---- serial -----------------------------------------------------------------------------------

bool readable(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  return flags != -1 && (flags & O_ACCMODE) != O_WRONLY;
}

API_AVAILABLE(macos(13.0))
Result<VZSerialPortAttachment*> make_serial_attachment(const SerialPlan& plan,
                                                      BuiltConfiguration& built) {
  if (const auto* file = std::get_if<SerialFilePlan>(&plan)) {
    NSError* error = nil;
    VZFileSerialPortAttachment* attachment =
        [[VZFileSerialPortAttachment alloc] initWithURL:file_url(file->path)
                                                 append:file->append ? YES : NO
                                                  error:&error];
    if (attachment == nil) return error_from(error, "serial file " + quoted(file->path));
    return attachment;
  }
  if (const auto* fd = std::get_if<SerialFdPlan>(&plan)) {
    NSFileHandle* writing = [[NSFileHandle alloc] initWithFileDescriptor:fd->fd closeOnDealloc:NO];
    NSFileHandle* reading =
        readable(fd->fd) ? [[NSFileHandle alloc] initWithFileDescriptor:fd->fd closeOnDealloc:NO]
                         : nil;
    return [[VZFileHandleSerialPortAttachment alloc] initWithFileHandleForReading:reading
                                                             fileHandleForWriting:writing];
  }
  const auto& pipe_plan = std::get<SerialPipePlan>(plan);
  auto pipe = make_console_pipe();
  if (!pipe) return pipe.error();
  auto tee = open_serial_tee(pipe_plan.tee);
  if (!tee) return tee.error();
  built.console_read_end = std::move(pipe->first);
  built.console_tee = std::move(*tee);
  // VZ owns the write end: when the VM is released, the reader sees end of stream.
  NSFileHandle* writing = [[NSFileHandle alloc] initWithFileDescriptor:pipe->second.release()
                                                        closeOnDealloc:YES];
  return [[VZFileHandleSerialPortAttachment alloc] initWithFileHandleForReading:nil
                                                           fileHandleForWriting:writing];
}

// ---- the whole configuration ------------------------------------------------------------------

API_AVAILABLE(macos(13.0))
Result<BuiltConfiguration> assemble(const Plan& plan) {
  BuiltConfiguration built;
  VZVirtualMachineConfiguration* configuration = [[VZVirtualMachineConfiguration alloc] init];
  configuration.CPUCount = static_cast<NSUInteger>(plan.cpus);
  configuration.memorySize = plan.memory_bytes;

  auto boot_loader = make_boot_loader(plan.boot);
  if (!boot_loader) return boot_loader.error();
  configuration.bootLoader = *boot_loader;

  auto platform = make_platform(plan.platform, built);
  if (!platform) return platform.error();
  configuration.platform = *platform;

  NSMutableArray<VZStorageDeviceConfiguration*>* storage = [NSMutableArray array];
  for (const auto& disk : plan.storage) {
    auto device = make_storage_device(disk);
    if (!device) return device.error();
    [storage addObject:*device];
  }
  configuration.storageDevices = storage;

  NSMutableArray<VZNetworkDeviceConfiguration*>* networks = [NSMutableArray array];
  for (const auto& network : plan.networks) {
    auto device = make_network_device(network, built);
    if (!device) return device.error();
    [networks addObject:*device];
  }
  configuration.networkDevices = networks;

  NSMutableArray<VZDirectorySharingDeviceConfiguration*>* shares = [NSMutableArray array];
  for (const auto& share : plan.shares) {
    auto device = make_share_device(share);
    if (!device) return device.error();
    [shares addObject:*device];
  }
  if (plan.rosetta_tag) {
    auto device = make_rosetta_device(*plan.rosetta_tag);
    if (!device) return device.error();
    [shares addObject:*device];
  }
  configuration.directorySharingDevices = shares;

  if (plan.vsock) {
    configuration.socketDevices = @[ [[VZVirtioSocketDeviceConfiguration alloc] init] ];
  }
  if (plan.entropy) {
    configuration.entropyDevices = @[ [[VZVirtioEntropyDeviceConfiguration alloc] init] ];
  }
  if (plan.balloon) {
    configuration.memoryBalloonDevices =
        @[ [[VZVirtioTraditionalMemoryBalloonDeviceConfiguration alloc] init] ];
  }
  if (!std::holds_alternative<std::monostate>(plan.serial)) {
    auto attachment = make_serial_attachment(plan.serial, built);
    if (!attachment) return attachment.error();
    VZVirtioConsoleDeviceSerialPortConfiguration* port =
        [[VZVirtioConsoleDeviceSerialPortConfiguration alloc] init];
    port.attachment = *attachment;
    configuration.serialPorts = @[ port ];
  }
  if (!plan.console_ports.empty()) {
    auto console_device = make_console_device(plan.console_ports, built.console_ports);
    if (!console_device) return console_device.error();
    configuration.consoleDevices = @[ *console_device ];
  }

  NSError* error = nil;
  if (![configuration validateWithError:&error]) {
    return error_from(error, "validating the virtual machine configuration");
  }
  built.configuration = configuration;
  return Result<BuiltConfiguration>(std::move(built));
}

}  // namespace

BuiltConfiguration::~BuiltConfiguration() {
  for (const auto& path : socket_paths) {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }
}

Result<BuiltConfiguration> build_configuration(const Plan& plan) {
  // Invalid arguments (a URL VZ refuses, a bad share name) raise exceptions, not NSErrors.
  @try {
    return assemble(plan);
  } @catch (NSException* exception) {
    return error_from(exception, "building the virtual machine configuration");
  }
}

}  // namespace vmm::vz
