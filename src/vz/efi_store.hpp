// vmm vz: whether to open or create the EFI variable store, given whether the file exists.
#pragma once

#include "vmm/error.hpp"
#include "vz/plan.hpp"

namespace vmm::vz {

enum class EfiStoreAction {
  open,    // -[VZEFIVariableStore initWithURL:]
  create,  // -[VZEFIVariableStore initCreatingVariableStoreAtURL:options:error:]
};

// A missing store without create_if_missing is not_found naming the path.
Result<EfiStoreAction> efi_store_action(const EfiBootPlan& plan, bool exists);

}  // namespace vmm::vz
