// vmm internal (QEMU backend): the factory — probes the host, plans the runtime layout
// (plan.hpp) and the argv (command_line.hpp) for a config, and starts the engine's Core.
#include <unistd.h>

#include <atomic>
#include <string>
#include <utility>
#include <vector>

#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "config/config_facts.hpp"
#include "config/efi_store.hpp"
#include "qemu/confinement.hpp"
#include "qemu/core.hpp"
#include "qemu/qemu_engine.hpp"
#include "vmm/format.hpp"
#include "vmm/logging.hpp"

namespace vmm::detail {

Result<std::unique_ptr<Engine>> make_qemu_engine(const VmConfig& config,
                                                 const CreateOptions& options,
                                                 const std::filesystem::path& work_dir) {
  using namespace vmm::qemu;
  auto host = probe_host(options.qemu);
  if (!host) return std::move(host).error();

  // QEMU's identifier is the SMBIOS UUID: report the one the guest will actually see
  // (config/config_facts.hpp decides when it replaces the config's).
  VmConfig effective =
      with_machine_identifier_in_use(config, machine_uuid_bytes(config.machine_identifier()));

  std::error_code ec;
  std::filesystem::create_directories(work_dir, ec);
  if (ec) {
    return make_error(Errc::io, fmt::format("cannot create the working directory {}: {}",
                                            work_dir.string(), ec.message()));
  }
  // Host facts the plan needs: which disks are block devices (host_device rather than file),
  // and a CID sequence number unique in this process.
  std::vector<bool> block_devices;
  for (const auto& disk : effective.disks()) {
    std::error_code block_ec;
    block_devices.push_back(std::filesystem::is_block_file(disk.path, block_ec));
  }
  static std::atomic<std::uint32_t> vsock_sequence{0};
  auto planned = plan_runtime_layout(
      effective, work_dir, std::move(block_devices),
      vsock_cid_for(static_cast<std::uint32_t>(::getpid()), vsock_sequence++));
  if (!planned) return std::move(planned).error();
  QemuRuntimePaths paths = std::move(*planned);
  // The VM's own RAM file, which save_template() copies into a template bundle.
  if (options.file_backed_memory) paths.memory_file = work_dir / "memory.ram";
  if (const auto* efi = std::get_if<EfiBoot>(&effective.boot())) {
    // The rule is the shared one (src/config/efi_store.hpp); the store is made at launch.
    auto action = efi_store_action(*efi, std::filesystem::exists(efi->variable_store, ec));
    if (!action) return Error(action.error().code(), "boot: " + action.error().message());
  }

  auto command_line = build_qemu_command_line(effective, *host, paths);
  if (!command_line) return std::move(command_line).error();
  // CreateOptions::isolation: QEMU's own flags here, the rest at each launch (run.cpp).
  auto confinement = plan_confinement(options.isolation, host->binary);
  if (!confinement) return std::move(confinement).error();
  command_line->argv.insert(command_line->argv.end(), confinement->begin(), confinement->end());
  vmm::logger()->debug("qemu: {}", fmt::join(command_line->argv, " "));

  auto core = std::make_shared<Core>(std::move(effective), options, work_dir, std::move(*host),
                                     std::move(*command_line), std::move(paths));
  core->start_worker();
  return make_engine(std::move(core));
}

}  // namespace vmm::detail
