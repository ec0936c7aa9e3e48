// vmm internal: facts about a built VmConfig that the core and both backends need, decided here
// once so that no layer answers them its own way.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "vmm/config.hpp"
#include "vmm/error.hpp"

namespace vmm::detail {

// Whether the VM has a vsock device, as the one check behind connect_vsock and listen_vsock:
// an invalid_config error "<operation>: the VM has no vsock device" when it has none. The core
// asks it before calling an engine (machine/virtual_machine_impl.cpp); engines rely on that and
// do not check again.
Result<void> require_vsock_device(const VmConfig& config, std::string_view operation);

// The config a backend reports through Engine::config() (and a snapshot manifest records): a
// machine identifier the builder generated is replaced by `in_use`, the identifier the
// hypervisor really gives the guest (QEMU's SMBIOS UUID, VZ's generated
// VZGenericMachineIdentifier), when it differs; the result is then no longer "generated", so a
// restore reuses it. An identifier the caller chose is never replaced. nullopt: nothing to
// replace with.
VmConfig with_machine_identifier_in_use(const VmConfig& config,
                                        const std::optional<std::vector<std::uint8_t>>& in_use);

}  // namespace vmm::detail
