#include "common/failure.hpp"

#include <cerrno>
#include <cstring>

namespace vmm_bench {

std::string errno_text() { return std::strerror(errno); }

}  // namespace vmm_bench
