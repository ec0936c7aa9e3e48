#include "random_bytes.hpp"

#include <random>

namespace vmm::detail {

void fill_random(std::span<std::uint8_t> out) {
  // std::random_device reads the kernel's CSPRNG (getrandom / arc4random) on the platforms vmm
  // supports; it is not a deterministic engine.
  std::random_device device;
  std::size_t i = 0;
  while (i < out.size()) {
    auto word = device();
    for (int b = 0; b < 4 && i < out.size(); ++b, ++i) {
      out[i] = static_cast<std::uint8_t>(word & 0xFFu);
      word >>= 8;
    }
  }
}

}  // namespace vmm::detail
