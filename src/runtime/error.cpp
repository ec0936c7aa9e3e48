#include "vmm/error.hpp"

#include <string>

namespace vmm {

std::string_view to_string(Errc code) noexcept {
  switch (code) {
    case Errc::invalid_config: return "invalid_config";
    case Errc::invalid_state: return "invalid_state";
    case Errc::unsupported: return "unsupported";
    case Errc::not_found: return "not_found";
    case Errc::io: return "io";
    case Errc::backend: return "backend";
    case Errc::timeout: return "timeout";
    case Errc::cancelled: return "cancelled";
  }
  return "unknown";
}

std::string Error::to_string() const {
  std::string text(vmm::to_string(code_));
  text += ": ";
  text += message_;
  return text;
}

}  // namespace vmm
