// vmm internal (QEMU backend): templates and clones.
//
// A template VM runs with its RAM in a file (memory-backend-file, share=on). save_template
// migrates with the `x-ignore-shared` capability, which leaves shared RAM out of the stream: the
// state file holds the device state only, and the RAM file is copied into the bundle beside it
// (holes stay holes, memory_file.hpp). A clone starts QEMU with the same machine but its RAM
// mapped privately from the bundle's file (share=off: copy-on-write, never written back), sets
// the same capability and loads the device state with an incoming migration.
//
// QEMU 7.2 opens the file read-write even for share=off (a read-only file mapped writable
// arrived with `rom=off` in QEMU 8.2), and its RAM discard punches holes into a file-backed
// block whatever the mapping: a balloon in a clone would erase the template's pages. So
// templates refuse the balloon; nothing else discards guest RAM in the machines vmm builds.
#include <string>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "qemu/core.hpp"
#include "qemu/memory_file.hpp"
#include "vmm/logging.hpp"

namespace vmm::qemu {

Result<void> Core::check_template_support(bool saving) const {
  if (config_.balloon()) {
    return make_error(Errc::unsupported,
                      "balloon: QEMU discards ballooned pages by punching holes into a "
                      "file-backed RAM block, which would erase the template's RAM file; a "
                      "template cannot have a memory balloon");
  }
  if (saving && paths_.memory_file.empty()) {
    return make_error(Errc::invalid_config,
                      "the VM's memory is not file-backed: create it with "
                      "CreateOptions::file_backed_memory = true to save it as a template");
  }
  return {};
}

Result<void> Core::do_save_template(const std::filesystem::path& state_file,
                                    const std::filesystem::path& memory_file) {
  if (!run_) return make_error(Errc::invalid_state, "save_template: QEMU is not running");
  if (clone_run_) {
    return make_error(Errc::unsupported,
                      "save_template: this VM is a clone, whose RAM is a private mapping of its "
                      "template's file; save() it as a full bundle instead");
  }
  auto saved = migration_.save(*run_, state_file, /*device_state_only=*/true);
  if (!saved) return died_during_save(std::move(saved).error());
  // The guest is stopped (postmigrate): its RAM file holds exactly the state just saved.
  auto copied = copy_memory_file(paths_.memory_file, memory_file);
  if (!copied) return copied.error();
  vmm::logger()->debug("qemu: template RAM file {}: {} bytes of data", memory_file.string(),
                       *copied);
  return {};
}

// A QEMU for a clone of `memory_file`, waiting (-incoming defer) for the device state.
Result<void> Core::launch_clone(const std::filesystem::path& memory_file) {
  QemuRuntimePaths clone_paths = paths_;
  clone_paths.memory_file = memory_file;
  clone_paths.memory_file_shared = false;
  auto command_line = build_qemu_command_line(config_, host_, clone_paths);
  if (!command_line) return std::move(command_line).error();
  teardown_run();  // the old run may still refer to the old clone command line
  clone_command_line_ = std::move(*command_line);
  if (auto launched = launch(true, &*clone_command_line_); !launched) return launched;
  // The destination must leave the same RAM out of the stream as the template's save did.
  if (auto on = set_ignore_shared(*run_, true); !on) {
    return fail_run(fmt::format("QEMU refused x-ignore-shared ({})", on.error().message()));
  }
  return {};
}

Result<void> Core::do_prepare_clone(const std::filesystem::path& memory_file) {
  if (auto launched = launch_clone(memory_file); !launched) return launched;
  prepared_clone_ = memory_file;
  return {};
}

Result<void> Core::do_restore_clone(const std::filesystem::path& state_file,
                                    const std::filesystem::path& memory_file) {
  auto file = Migration::open_state_file(state_file);
  if (!file) return std::move(file).error();
  // A prepared run (VmPool) of this RAM file that is still alive only needs the state.
  const bool prepared = run_ && prepared_clone_ == memory_file && !run_->qemu().exit_status();
  prepared_clone_.clear();
  if (!prepared) {
    if (auto launched = launch_clone(memory_file); !launched) return launched;
  }
  if (auto restored = migration_.restore(*run_, std::move(*file), state_file); !restored) {
    return fail_run(fmt::format("{} and its RAM file {}", restored.error().message(),
                                memory_file.string()));
  }
  // Off again: QEMU records its capabilities in every stream, and a later full save() of the
  // clone (its RAM is private, so that save carries it) must load where the capability is off.
  if (auto off = set_ignore_shared(*run_, false); !off) {
    return fail_run(fmt::format("QEMU refused to turn x-ignore-shared off ({})",
                                off.error().message()));
  }
  return {};  // paused (-S); resume() sends cont
}

}  // namespace vmm::qemu
