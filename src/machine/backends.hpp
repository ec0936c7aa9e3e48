// vmm internal: which backend a CreateOptions::backend request means on this host, and the
// factory that builds its engine.
#pragma once

#include <filesystem>
#include <memory>

#include "machine/engine.hpp"
#include "vmm/virtual_machine.hpp"

namespace vmm::detail {

// automatic -> virtualization_framework on Apple platforms, qemu elsewhere; others unchanged.
Backend resolve_backend(Backend requested) noexcept;

// Calls the factory of `backend` (already resolved). Never throws and never returns a null
// engine: a factory that cannot build one is reported as an error.
Result<std::unique_ptr<Engine>> make_engine(Backend backend, const VmConfig& config,
                                            const CreateOptions& options,
                                            const std::filesystem::path& work_dir);

}  // namespace vmm::detail
