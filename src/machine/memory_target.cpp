#include "machine/memory_target.hpp"

#include <string>

#include "vmm/virtual_machine.hpp"

namespace vmm::detail {

Result<void> check_memory_target(Size configured, Size target, bool whole_mib_only) {
  const auto prefix = "set_memory_target: " + target.to_string();
  if (target > configured) {
    return make_error(Errc::invalid_config, prefix + " is above the configured memory of " +
                                                configured.to_string());
  }
  if (target < VirtualMachine::min_memory_target) {
    return make_error(Errc::invalid_config,
                      prefix + " is below the floor of " +
                          VirtualMachine::min_memory_target.to_string());
  }
  if (whole_mib_only && target.as_bytes() % Size::mib(1).as_bytes() != 0) {
    return make_error(Errc::invalid_config,
                      prefix + " is not a whole number of MiB, which this backend needs");
  }
  return {};
}

}  // namespace vmm::detail
