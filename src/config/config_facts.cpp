// vmm internal: facts about a built VmConfig (see config_facts.hpp).
#include "config/config_facts.hpp"

#include <string>

#include "config/access.hpp"

namespace vmm::detail {

Result<void> require_vsock_device(const VmConfig& config, std::string_view operation) {
  if (config.vsock()) return {};
  return make_error(Errc::invalid_config,
                    std::string(operation) + ": the VM has no vsock device");
}

VmConfig with_machine_identifier_in_use(const VmConfig& config,
                                        const std::optional<std::vector<std::uint8_t>>& in_use) {
  VmConfig effective = config;
  if (config.machine_identifier_generated() && in_use &&
      *in_use != config.machine_identifier()) {
    ConfigAccess::replace_machine_identifier(effective, *in_use);
  }
  return effective;
}

}  // namespace vmm::detail
