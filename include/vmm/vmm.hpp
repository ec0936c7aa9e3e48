// vmm: the umbrella header. It stays light: the fmt formatters are opt-in (vmm/format.hpp),
// as are the QEMU-specific options (vmm/qemu_options.hpp, also reached through CreateOptions).
#pragma once

#include "vmm/config.hpp"
#include "vmm/devices.hpp"
#include "vmm/error.hpp"
#include "vmm/file_descriptor.hpp"
#include "vmm/isolation.hpp"
#include "vmm/logging.hpp"
#include "vmm/mac_address.hpp"
#include "vmm/qemu_options.hpp"
#include "vmm/size.hpp"
#include "vmm/snapshot.hpp"
#include "vmm/state.hpp"
#include "vmm/version.hpp"
#include "vmm/virtual_machine.hpp"
#include "vmm/vm_pool.hpp"
