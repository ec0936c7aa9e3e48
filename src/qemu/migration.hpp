// vmm internal (QEMU backend): save/restore streaming. The Core's save, restore and migration
// members (migrate_out, wait_for_migration, the held state file and the postmigrate
// reactivation) are defined in migration.cpp; this header holds what they share with the rest.
#pragma once

#include <string_view>

namespace vmm::qemu {

// Whether a MIGRATION event's status ends the stream (successfully or not).
inline bool migration_ended(std::string_view status) {
  return status == "completed" || status == "failed" || status == "cancelled";
}

}  // namespace vmm::qemu
