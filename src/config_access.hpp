// vmm internal: the one write path into a built VmConfig, for backends that replace a
// generated machine identifier with one in their own format.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "vmm/config.hpp"

namespace vmm {

struct ConfigAccess {
  static void replace_machine_identifier(VmConfig& config, std::vector<std::uint8_t> data) {
    config.machine_identifier_ = std::move(data);
    config.machine_identifier_generated_ = false;
  }
};

}  // namespace vmm
