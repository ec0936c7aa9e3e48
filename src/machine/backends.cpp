// vmm internal: backend selection and the call into a backend's engine factory.
#include "machine/backends.hpp"

#include <exception>
#include <string>

namespace vmm::detail {

Backend resolve_backend(Backend requested) noexcept {
  if (requested != Backend::automatic) return requested;
#if defined(__APPLE__)
  return Backend::virtualization_framework;
#else
  return Backend::qemu;
#endif
}

Result<std::unique_ptr<Engine>> make_engine(Backend backend, const VmConfig& config,
                                            const CreateOptions& options,
                                            const std::filesystem::path& work_dir) {
  const std::string name(to_string(backend));
  try {
    auto engine = backend == Backend::virtualization_framework
                      ? make_vz_engine(config, options, work_dir)
                      : make_qemu_engine(config, options, work_dir);
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
