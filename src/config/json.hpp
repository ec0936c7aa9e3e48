// vmm internal: VmConfig <-> JSON, also used to embed a config in a snapshot manifest.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "config/validation.hpp"
#include "vmm/config.hpp"

namespace vmm::detail {

nlohmann::json config_to_json(const VmConfig& config);

// Reads a config document rooted at `path` (e.g. "$" or "$.config"); errors name the path of
// the offending field. With HostChecks::off the files and descriptors it names are not checked.
Result<VmConfig> config_from_json(const nlohmann::json& document, HostChecks host,
                                  const std::string& path = "$");

}  // namespace vmm::detail
