// vmm: operator<< for the library's error, enum and value types, for iostream users (opt-in:
// nothing else includes this header). Each prints the same text as the library's to_string()
// and as the fmt formatters of vmm/format.hpp, e.g. `std::cerr << result.error()` prints
// "invalid_config: cpus: 0 is below the minimum of 1".
#pragma once

#include <ostream>

#include "vmm/devices.hpp"
#include "vmm/error.hpp"
#include "vmm/mac_address.hpp"
#include "vmm/size.hpp"
#include "vmm/state.hpp"
#include "vmm/virtual_machine.hpp"

namespace vmm {

inline std::ostream& operator<<(std::ostream& out, const Error& error) {
  return out << error.to_string();
}
inline std::ostream& operator<<(std::ostream& out, Errc code) { return out << to_string(code); }
inline std::ostream& operator<<(std::ostream& out, VmState state) { return out << to_string(state); }
inline std::ostream& operator<<(std::ostream& out, Backend backend) {
  return out << to_string(backend);
}
inline std::ostream& operator<<(std::ostream& out, Acceleration acceleration) {
  return out << to_string(acceleration);
}
inline std::ostream& operator<<(std::ostream& out, DiskFormat format) {
  return out << to_string(format);
}
inline std::ostream& operator<<(std::ostream& out, CachingMode mode) { return out << to_string(mode); }
inline std::ostream& operator<<(std::ostream& out, SyncMode mode) { return out << to_string(mode); }
inline std::ostream& operator<<(std::ostream& out, BlockBus bus) { return out << to_string(bus); }
inline std::ostream& operator<<(std::ostream& out, const Size& size) { return out << size.to_string(); }
inline std::ostream& operator<<(std::ostream& out, const MacAddress& mac) {
  return out << mac.to_string();
}

}  // namespace vmm
