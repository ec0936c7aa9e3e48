// vmm internal: the write paths into a built VmConfig that the library itself needs: backends
// replacing a generated machine identifier, and the JSON reader restoring its flag.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "vmm/config.hpp"

namespace vmm {

struct ConfigAccess {
  // The builder's private network entry, for the validation rules (src/config/validation.hpp).
  using NetworkSpec = VmConfigBuilder::NetworkSpec;

  static void replace_machine_identifier(VmConfig& config, std::vector<std::uint8_t> data) {
    config.machine_identifier_ = std::move(data);
    config.machine_identifier_generated_ = false;
  }
  static void set_machine_identifier_generated(VmConfig& config, bool generated) {
    config.machine_identifier_generated_ = generated;
  }
  // Validates the values only; see VmConfigBuilder::build_impl.
  static Result<VmConfig> build_without_host_checks(const VmConfigBuilder& builder) {
    return builder.build_impl(false);
  }
};

}  // namespace vmm
