// vmm internal (QEMU backend): memory balloon controls over QMP. `balloon` sets the target the
// guest's virtio-balloon driver works towards; `query-balloon` reports `actual`, the guest's
// memory minus what its balloon holds. QEMU does not report the target, so the Core remembers
// the last one it set for the current run (a fresh run starts at the configured memory).
#include <fmt/format.h>

#include "qemu/core.hpp"

namespace vmm::qemu {

using nlohmann::json;

Result<void> Core::do_set_memory_target(Size target) {
  if (!run_) return make_error(Errc::invalid_state, "set_memory_target: QEMU is not running");
  auto reply = run_->execute("balloon", {{"value", target.as_bytes()}});
  if (!reply) return std::move(reply).error();
  memory_target_.emplace(run_->generation(), target);
  return {};
}

Result<MemoryBalloonInfo> Core::do_memory_balloon() {
  if (!run_) return make_error(Errc::invalid_state, "memory_balloon: QEMU is not running");
  auto reply = run_->execute("query-balloon");
  if (!reply) return std::move(reply).error();
  const auto actual = reply->find("actual");
  if (actual == reply->end() || !actual->is_number_unsigned()) {
    return make_error(Errc::backend,
                      fmt::format("memory_balloon: QEMU's query-balloon answer has no size: {}",
                                  reply->dump()));
  }
  MemoryBalloonInfo info;
  info.target = memory_target_ && memory_target_->first == run_->generation()
                    ? memory_target_->second
                    : config_.memory();
  info.actual = Size::bytes(actual->get<std::uint64_t>());
  return info;
}

}  // namespace vmm::qemu
