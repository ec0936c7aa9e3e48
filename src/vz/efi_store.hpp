// vmm vz: whether to open or create the EFI variable store, given whether the file exists. The
// rule is the shared one in src/config/efi_store.hpp.
#pragma once

#include "config/efi_store.hpp"
#include "vmm/error.hpp"
#include "vz/plan.hpp"

namespace vmm::vz {

using detail::EfiStoreAction;  // open: initWithURL:, create: initCreatingVariableStoreAtURL:

inline Result<EfiStoreAction> efi_store_action(const EfiBootPlan& plan, bool exists) {
  return detail::efi_store_action(EfiBoot{plan.variable_store, plan.create_if_missing}, exists);
}

}  // namespace vmm::vz
