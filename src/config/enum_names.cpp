// vmm: to_string() of every public enum, from the tables in enum_names.hpp. Backend names come
// from the backend table instead (src/machine/backends.cpp).
#include "config/enum_names.hpp"

namespace vmm {

std::string_view to_string(DiskFormat v) noexcept { return detail::name_of(detail::kDiskFormatNames, v); }
std::string_view to_string(CachingMode v) noexcept { return detail::name_of(detail::kCachingModeNames, v); }
std::string_view to_string(SyncMode v) noexcept { return detail::name_of(detail::kSyncModeNames, v); }
std::string_view to_string(BlockBus v) noexcept { return detail::name_of(detail::kBlockBusNames, v); }
std::string_view to_string(Protocol v) noexcept { return detail::name_of(detail::kProtocolNames, v); }
std::string_view to_string(Errc v) noexcept { return detail::name_of(detail::kErrcNames, v); }
std::string_view to_string(VmState v) noexcept { return detail::name_of(detail::kVmStateNames, v); }
std::string_view to_string(Acceleration v) noexcept {
  return detail::name_of(detail::kAccelerationNames, v);
}
std::string_view to_string(Sandbox v) noexcept { return detail::name_of(detail::kSandboxNames, v); }

}  // namespace vmm
