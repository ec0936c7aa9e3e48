// vmm: the umbrella header.
#pragma once

#include "vmm/config.hpp"
#include "vmm/devices.hpp"
#include "vmm/error.hpp"
#include "vmm/file_descriptor.hpp"
#include "vmm/format.hpp"
#include "vmm/logging.hpp"
#include "vmm/mac_address.hpp"
#include "vmm/size.hpp"
#include "vmm/snapshot.hpp"
#include "vmm/state.hpp"
#include "vmm/version.hpp"
#include "vmm/virtual_machine.hpp"
