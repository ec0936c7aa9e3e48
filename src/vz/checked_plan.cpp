// make_checked_plan(): the pure plan plus the one check that reads a file.
#include <variant>

#include "vz/block_device.hpp"
#include "vz/kernel_image.hpp"
#include "vz/plan.hpp"

namespace vmm::vz {

Result<Plan> make_checked_plan(const VmConfig& config, const HostFacts& host,
                               const PlanOptions& options) {
  PlanOptions examined = options;
  if (!examined.is_block_device) examined.is_block_device = is_block_device;
  auto plan = make_plan(config, host, examined);
  if (!plan) return plan;
  if (host.arch == HostArch::arm64) {
    if (const auto* linux_boot = std::get_if<LinuxBootPlan>(&plan->boot)) {
      if (auto kernel = check_arm64_kernel_image(linux_boot->kernel); !kernel) {
        return kernel.error();
      }
    }
  }
  return plan;
}

}  // namespace vmm::vz
