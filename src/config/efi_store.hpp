// vmm internal: what to do about an EFI variable store, given whether its file exists -- the one
// rule both backends follow (QEMU's engine copies its OVMF template to create one; VZ asks the
// framework). The config rule (src/config/validation.cpp) checks only that the path is usable.
#pragma once

#include "vmm/devices.hpp"
#include "vmm/error.hpp"

namespace vmm::detail {

enum class EfiStoreAction {
  open,    // the store exists: use it as it is
  create,  // missing, and create_if_missing allows making a fresh one
};

// A missing store without create_if_missing is not_found naming the path.
Result<EfiStoreAction> efi_store_action(const EfiBoot& boot, bool exists);

}  // namespace vmm::detail
