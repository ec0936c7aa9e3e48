// Off Apple platforms there is no Virtualization.framework: the factory says so. The real
// factory is in vz_engine.mm.
#include "machine/engine.hpp"

#if !defined(__APPLE__)

namespace vmm::detail {

Result<std::unique_ptr<Engine>> make_vz_engine(const VmConfig& /*config*/,
                                               const CreateOptions& /*options*/,
                                               const std::filesystem::path& /*work_dir*/) {
  return make_error(Errc::unsupported,
                    "the Virtualization.framework backend needs macOS 13 or later");
}

}  // namespace vmm::detail

#endif
