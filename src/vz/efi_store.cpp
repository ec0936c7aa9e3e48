#include "vz/efi_store.hpp"

#include <string>

namespace vmm::vz {

Result<EfiStoreAction> efi_store_action(const EfiBootPlan& plan, bool exists) {
  if (exists) return EfiStoreAction::open;
  if (plan.create_if_missing) return EfiStoreAction::create;
  return make_error(Errc::not_found, "EFI variable store \"" + plan.variable_store.string() +
                                         "\" does not exist (and create_if_missing is off)");
}

}  // namespace vmm::vz
