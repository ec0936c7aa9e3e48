#include "vmm/error.hpp"

#include <string>

namespace vmm {

// to_string(Errc) is in src/config/enum_names.cpp, with the other enum names.
std::string Error::to_string() const {
  std::string text(vmm::to_string(code_));
  text += ": ";
  text += message_;
  return text;
}

}  // namespace vmm
