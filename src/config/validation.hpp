// vmm internal: the validation rules of VmConfigBuilder::build(), one function per field group.
// Each returns the first broken rule as an invalid_config error that names the field (in the
// JSON path form of to_json(), e.g. "disks[1].device_id") and the offending value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/access.hpp"
#include "vmm/devices.hpp"
#include "vmm/error.hpp"
#include "vmm/size.hpp"

namespace vmm::detail {

// Whether to check the host: files exist, descriptors are open. Off for configs read back
// from a snapshot manifest, which are compared rather than run.
enum class HostChecks { on, off };

Result<void> check_cpus(std::uint32_t cpus);
Result<void> check_memory(Size memory);
Result<void> check_boot(const std::optional<Boot>& boot, const std::vector<std::string>& fragments,
                        HostChecks host);
Result<void> check_networks(const std::vector<ConfigAccess::NetworkSpec>& networks,
                            const std::optional<std::vector<MacAddress>>& macs, HostChecks host);
Result<void> check_shares(const std::vector<VirtiofsShare>& shares,
                          const std::optional<std::string>& rosetta_tag, HostChecks host);
Result<void> check_disks(const std::vector<DiskImage>& disks, HostChecks host);
Result<void> check_serial(const SerialConsole& serial, HostChecks host);
Result<void> check_single_devices(int vsock_count, int balloon_count);
// port_forwards.cpp: the forwards of every NAT network together.
Result<void> check_port_forwards(const std::vector<ConfigAccess::NetworkSpec>& networks);
// console_ports.cpp
Result<void> check_console_ports(const std::vector<ConsolePort>& ports);
Result<void> check_machine_identifier(const std::optional<std::vector<std::uint8_t>>& identifier);

// The rules that a host-independent reader (e.g. the VZ plan) can reuse.
Result<void> check_tag(std::string_view field, std::string_view tag);
Result<void> check_ipv4_subnet(std::string_view field, std::string_view subnet);

}  // namespace vmm::detail
