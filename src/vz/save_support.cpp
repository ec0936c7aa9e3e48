// What the plan knows blocks save/restore, decided before any state changes so that save()
// fails early with a reason naming the device. It is a lower bound: no blocker here does not
// promise that VZ can save (VzEngine::check_save_support then asks the framework itself).
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
  // Only what is known to be refused is blocked here; everything else is left to
  // validateSaveRestoreSupportWithError:, the authority, which save()/restore() ask before any
  // state changes (docs/macos.md lists each rule and its source):
  // - directory sharing devices (virtiofs, Rosetta) are refused by the framework;
  // - console devices (consoleDevices) are refused ("Unsupported console device in
  //   configuration"), but vmm never configures one: its console is a
  //   VZVirtioConsoleDeviceSerialPortConfiguration in serialPorts, so it blocks nothing here;
  // - entropy (and audio, which vmm has not): tart leaves them out of suspendable VMs, but no
  //   header or documentation says the framework refuses them, so the plan does not promise
  //   either way.
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
