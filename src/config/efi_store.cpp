#include "config/efi_store.hpp"

#include <string>

namespace vmm::detail {

Result<EfiStoreAction> efi_store_action(const EfiBoot& boot, bool exists) {
  if (exists) return EfiStoreAction::open;
  if (boot.create_if_missing) return EfiStoreAction::create;
  return make_error(Errc::not_found, "EFI variable store \"" + boot.variable_store.string() +
                                         "\" does not exist (and create_if_missing is off)");
}

}  // namespace vmm::detail
