// vmm vz (Objective-C++ only): the host facts the plan needs, read from the framework.
#pragma once

#include "vz/host_facts.hpp"

namespace vmm::vz {

// macOS version, the SDK this build used, architecture (of this build), VZ's CPU and memory limits, nested
// virtualization support (macOS 15+) and Rosetta availability (arm64, macOS 13+).
HostFacts query_host_facts();

}  // namespace vmm::vz
