// Whether a VM can be saved and restored, decided before any state changes so that save()
// fails early with the reason rather than VZ failing half-way.
#include <string>

#include "vz/plan.hpp"
#include "vz/requirements.hpp"

namespace vmm::vz {

std::optional<Error> save_blocker(const VmConfig& config, const HostFacts& host) {
  // saveMachineStateToURL: is declared only for arm64 and arrives in macOS 14.
  if (host.arch != HostArch::arm64 || host.macos < macos_for_save_restore) {
    return Error(Errc::unsupported,
                 "save/restore needs macOS 14 or later on an Apple silicon (arm64) Mac; this "
                 "host runs macOS " +
                     host.macos.to_string() + " on " + std::string(to_string(host.arch)));
  }
  // Directory sharing devices make a configuration unsavable (validateSaveRestoreSupport
  // rejects them). vmm's serial console is a VZVirtioConsoleDeviceSerialPortConfiguration in
  // serialPorts, not a console device in consoleDevices, so it does not block saving.
  if (!config.shares().empty()) {
    return Error(Errc::unsupported, "save/restore is not possible with directory shares "
                                    "(virtiofs tag \"" +
                                        config.shares().front().tag +
                                        "\"): Virtualization.framework cannot save them");
  }
  if (config.rosetta_tag()) {
    return Error(Errc::unsupported,
                 "save/restore is not possible with the Rosetta directory share (tag \"" +
                     *config.rosetta_tag() + "\"): Virtualization.framework cannot save it");
  }
  return std::nullopt;
}

}  // namespace vmm::vz
