#include "vz/bridged_interface.hpp"

#include <algorithm>

#include "vz/vz_errors.hpp"

namespace vmm::vz {

Result<std::size_t> find_bridged_interface(const std::vector<std::string>& available,
                                           std::string_view wanted) {
  const std::string what = "bridged network on \"" + std::string(wanted) + "\"";
  if (available.empty()) {
    return make_error(Errc::unsupported,
                      what + ": no interface can be bridged; bridging needs the " +
                          std::string(networking_entitlement) +
                          " entitlement (vmm_codesign(<target> NETWORKING)) or root");
  }
  const auto found = std::find(available.begin(), available.end(), wanted);
  if (found != available.end()) return static_cast<std::size_t>(found - available.begin());
  std::string names;
  for (const auto& name : available) names += (names.empty() ? "" : ", ") + name;
  return make_error(Errc::not_found, what + ": no such bridgeable interface (available: " +
                                         names + ")");
}

}  // namespace vmm::vz
