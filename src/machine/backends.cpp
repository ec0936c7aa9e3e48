// vmm internal: the backend table and the call into a backend's engine factory.
#include "machine/backends.hpp"

#include <array>
#include <exception>
#include <string>

namespace vmm::detail {

namespace {

// VMM_HAVE_VZ / VMM_HAVE_QEMU come from src/CMakeLists.txt, which builds src/vz/objc on Apple
// platforms and src/qemu on Linux; a backend that is not built has no factory to name.
#if defined(VMM_HAVE_VZ)
constexpr EngineFactory kVzFactory = &make_vz_engine;
#else
constexpr EngineFactory kVzFactory = nullptr;
#endif
#if defined(VMM_HAVE_QEMU)
constexpr EngineFactory kQemuFactory = &make_qemu_engine;
#else
constexpr EngineFactory kQemuFactory = nullptr;
#endif

// Native backend first: on a Mac both could one day be built, and VZ is what `automatic` means.
constexpr std::array kBackends{
    BackendEntry{Backend::virtualization_framework, "virtualization_framework", kVzFactory,
                 "the Virtualization.framework backend needs macOS 13 or later"},
    BackendEntry{Backend::qemu, "qemu", kQemuFactory,
                 "the QEMU backend runs on Linux hosts only"},
};

}  // namespace

std::span<const BackendEntry> backend_table() noexcept { return kBackends; }

const BackendEntry* find_backend(Backend backend) noexcept {
  for (const auto& entry : kBackends)
    if (entry.backend == backend) return &entry;
  return nullptr;
}

std::optional<Backend> backend_named(std::string_view name) noexcept {
  for (const auto& entry : kBackends)
    if (entry.name == name) return entry.backend;
  return std::nullopt;
}

Backend resolve_backend(Backend requested) noexcept {
  if (requested != Backend::automatic) return requested;
  for (const auto& entry : kBackends)
    if (entry.factory != nullptr) return entry.backend;
  return kBackends.back().backend;  // no backend built: create() reports it as unsupported
}

Result<std::unique_ptr<Engine>> make_engine(Backend backend, const VmConfig& config,
                                            const CreateOptions& options,
                                            const std::filesystem::path& work_dir) {
  const BackendEntry* entry = find_backend(backend);
  if (entry == nullptr) return make_error(Errc::invalid_config, "create: unknown backend");
  if (entry->factory == nullptr) return make_error(Errc::unsupported, std::string(entry->unavailable));
  const std::string name(entry->name);
  try {
    auto engine = entry->factory(config, options, work_dir);
    if (engine && !*engine) {
      return make_error(Errc::unsupported, "create: the " + name + " backend built no engine");
    }
    return engine;
  } catch (const std::exception& e) {
    // A factory is not supposed to throw; a library must not let it escape create() anyway.
    return make_error(Errc::backend, "create: the " + name + " backend failed: " + e.what());
  }
}

}  // namespace vmm::detail

namespace vmm {

// Backend names come from the table above, the only list of them.
std::string_view to_string(Backend backend) noexcept {
  if (backend == Backend::automatic) return "automatic";
  const auto* entry = detail::find_backend(backend);
  return entry != nullptr ? entry->name : "unknown";
}

}  // namespace vmm
