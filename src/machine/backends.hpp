// vmm internal: the one table of backends, {Backend, name, factory}. It is the only place that
// lists them: backend names (to_string(Backend), snapshot manifests), which backend `automatic`
// means, and which factories exist on this platform all come from here.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "machine/engine.hpp"
#include "vmm/virtual_machine.hpp"

namespace vmm::detail {

using EngineFactory = Result<std::unique_ptr<Engine>> (*)(const VmConfig& config,
                                                          const CreateOptions& options,
                                                          const std::filesystem::path& work_dir);

struct BackendEntry {
  Backend backend;
  // As to_string(Backend) and snapshot manifests spell it.
  std::string_view name;
  // Null when this platform's build has no such backend (CMake chooses the files per platform).
  EngineFactory factory;
  // The `unsupported` message create() gives where the factory is null.
  std::string_view unavailable;
};

// Every backend, the host's native one first (it is what Backend::automatic means).
std::span<const BackendEntry> backend_table() noexcept;

// The entry of a concrete backend; null for Backend::automatic (and values outside the enum).
const BackendEntry* find_backend(Backend backend) noexcept;
// The backend a snapshot manifest's name refers to.
std::optional<Backend> backend_named(std::string_view name) noexcept;

// automatic -> the first backend built for this platform (Virtualization.framework on Apple
// platforms, QEMU on Linux); others unchanged.
Backend resolve_backend(Backend requested) noexcept;

// Calls the factory of `backend` (already resolved). Never throws and never returns a null
// engine: a backend without a factory here, or a factory that cannot build one, is an error.
Result<std::unique_ptr<Engine>> make_engine(Backend backend, const VmConfig& config,
                                            const CreateOptions& options,
                                            const std::filesystem::path& work_dir);

}  // namespace vmm::detail
