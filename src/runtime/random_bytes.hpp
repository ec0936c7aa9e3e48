// vmm internal: bytes from the operating system's CSPRNG, for MACs and machine identifiers
// that must not collide between processes started at the same moment.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace vmm::detail {

void fill_random(std::span<std::uint8_t> out);

}  // namespace vmm::detail
