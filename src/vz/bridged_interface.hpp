// vmm vz: picks the host interface a bridged network asks for among those VZ offers.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "vmm/error.hpp"

namespace vmm::vz {

// The index of `wanted` in `available` (+[VZBridgedNetworkInterface networkInterfaces]
// identifiers). VZ lists no interface at all to a process without the com.apple.vm.networking
// entitlement, so an empty list is reported as that, not as a wrong name.
Result<std::size_t> find_bridged_interface(const std::vector<std::string>& available,
                                           std::string_view wanted);

}  // namespace vmm::vz
