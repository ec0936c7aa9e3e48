// vfkit's bootloader and --device forms (pkg/config/bootloader.go, virtio.go) turned into
// VmConfigBuilder calls and runner settings.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vmm/config.hpp"
#include "vmm/error.hpp"
#include "vmm/vfkit.hpp"

namespace vmm::vfkit::detail {

struct MachineSink {
  VmConfigBuilder& builder;
  Settings& settings;
  bool vsock = false;  // a virtio-vsock device (or --timesync / --ignition) asks for one
};

// `pieces` is the --bootloader list: its type, then its options.
Result<void> add_bootloader(const std::vector<std::string>& pieces, MachineSink& sink);
// One --device value.
Result<void> add_device(std::string_view text, MachineSink& sink);

// A whole decimal number in [min, max], or an error naming `what` and the text.
Result<std::uint64_t> parse_decimal(std::string_view what, std::string_view text,
                                    std::uint64_t min, std::uint64_t max);

}  // namespace vmm::vfkit::detail
