// vmm internal: VirtualMachine's snapshot operations, save() and restore(). Everything that
// can be refused without the hypervisor is refused first, with the state unchanged; see
// snapshot/bundle.hpp for how a bundle is written without damaging an older one.
#include <spdlog/spdlog.h>

#include <atomic>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include "machine/virtual_machine_impl.hpp"
#include "runtime/file_digest.hpp"
#include "snapshot/bundle.hpp"
#include "snapshot/compat.hpp"
#include "snapshot/manifest.hpp"
#include "snapshot/staging.hpp"
#include "vmm/logging.hpp"
#include "vmm/snapshot.hpp"
#include "vmm/version.hpp"

namespace vmm {

namespace fs = std::filesystem;
using detail::Operation;

namespace {

// Prefixes an error from a helper with the operation, keeping its code.
Error in_operation(std::string_view operation, const Error& error) {
  return Error(error.code(), std::string(operation) + ": " + error.message());
}

Result<void> verify_digests(const fs::path& bundle, const SnapshotManifest& manifest) {
  if (manifest.digests.empty()) {
    logger()->warn("vmm: restore: {} has manifest format version {}, which records no digests: "
                   "its state file is not verified",
                   bundle.string(), manifest.format_version);
    return {};
  }
  for (const auto& [name, expected] : manifest.digests) {
    const fs::path file = bundle / name;
    auto actual = detail::digest_file(file);
    if (!actual) return Unexpected(actual.error());
    if (*actual != expected) {
      return make_error(Errc::io, "the state file " + file.string() +
                                      " is damaged: its digest is " + *actual +
                                      ", the manifest records " + expected);
    }
  }
  return {};
}

}  // namespace

void VirtualMachine::Impl::save(fs::path requested, Completion done, detail::SaveKind kind,
                                Delivery delivery) {
  const auto id = reserve(Operation::save, done, delivery);
  if (!id) return;
  const bool as_template = kind == detail::SaveKind::template_bundle;
  const std::string_view operation = as_template ? "save_template" : "save";
  // Everything that can fail without the hypervisor fails here, with the state unchanged.
  const fs::path bundle = detail::normalize_bundle_path(requested);
  if (auto supported = engine_->check_save_support(); !supported) {
    return abandon(*id, in_operation(operation, supported.error()));
  }
  if (as_template) {
    if (auto supported = engine_->check_template_support(true); !supported) {
      return abandon(*id, in_operation(operation, supported.error()));
    }
    if (auto fits = detail::check_template_config(config_); !fits) {
      return abandon(*id, in_operation(operation, fits.error()));
    }
  }
  if (auto writable = detail::check_bundle_target(bundle); !writable) {
    return abandon(*id, writable.error());
  }
  auto created = detail::StagingDirectory::create(bundle);
  if (!created) return abandon(*id, created.error());
  // From here the engine's Done handler owns the staging directory: it goes with the handler
  // unless the bundle commit moves it into place (snapshot/staging.hpp).
  auto staging = std::make_shared<detail::StagingDirectory>(std::move(*created));
  detail::Engine* engine = enter(*id);
  if (engine == nullptr) return;
  const fs::path state_file = staging->path() / engine->state_file_name();
  // Exactly once, whatever the engine does: a second answer must not touch a staging
  // directory that the first one's commit owns.
  auto answered = std::make_shared<std::atomic<bool>>(false);
  try {
    auto written = [weak = weak_from_this(), id = *id, staging, answered,
                    kind](Result<void> result) {
      if (answered->exchange(true)) return;
      if (auto self = weak.lock()) {
        self->save_written(id, staging, kind, std::move(result));
      } else {
        staging->remove();
      }
    };
    if (as_template) {
      engine->save_template(state_file,
                            staging->path() / std::string(detail::template_memory_file_name),
                            std::move(written));
    } else {
      engine->save(state_file, std::move(written));
    }
  } catch (const std::exception& e) {
    if (answered->exchange(true)) return;  // the engine answered before throwing
    staging->remove();
    finish(*id, Error(Errc::backend, std::string(operation) + ": " + e.what()));
  }
}

void VirtualMachine::Impl::save_written(std::uint64_t id,
                                        const std::shared_ptr<detail::StagingDirectory>& staging,
                                        detail::SaveKind kind, Result<void> result) {
  if (!result) {
    // Removed before the completion is posted, so a caller who sees the failure also sees no
    // staging directory. finish() drops the result of an operation completed meanwhile.
    staging->remove();
    return finish(id, std::move(result));
  }
  detail::Engine* engine = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (!closed_ && in_flight_ && in_flight_->id == id && !in_flight_->following_up) {
      engine = engine_.get();  // alive: we are inside its Done
    }
  }
  if (engine == nullptr) {
    staging->remove();  // completed already by an engine event or by destruction
    return;
  }
  // Asked inside the Done, as the Engine contract says; the rest is file work for the
  // follow-up thread (see begin_follow_up for why not this thread or the callback thread).
  std::optional<std::string> digest = engine->saved_state_digest();
  SnapshotManifest manifest{
      .format_version = SnapshotManifest::current_format_version,
      .backend = engine_name_,
      .config = config_,
      .state_file = engine->state_file_name(),
      .created_at = detail::utc_timestamp_now(),
      .library_version = version_string,
      .serial_port = serial_port_,
      .digests = {},
  };
  if (kind == detail::SaveKind::template_bundle) {
    manifest.template_memory = TemplateMemory{std::string(detail::template_memory_file_name),
                                              config_.memory().as_bytes()};
  }
  const bool started = begin_follow_up(
      id, [staging, manifest = std::move(manifest), digest = std::move(digest)]() mutable {
        return staging->commit(std::move(manifest), std::move(digest));
      });
  if (!started) staging->remove();
}

void VirtualMachine::Impl::restore(fs::path bundle, Completion done, Delivery delivery) {
  const auto id = reserve(Operation::restore, done, delivery);
  if (!id) return;
  // The manifest is checked against this VM before any hypervisor call, state unchanged.
  auto manifest = read_snapshot_manifest(bundle);
  if (!manifest) return abandon(*id, in_operation("restore", manifest.error()));
  if (auto compatible = detail::check_snapshot_compatible(*manifest, engine_name_, config_,
                                                                serial_port_);
      !compatible) {
    return abandon(*id, compatible.error());
  }
  if (auto supported = engine_->check_save_support(); !supported) {
    return abandon(*id, in_operation("restore", supported.error()));
  }
  const fs::path state_file = bundle / manifest->state_file;
  std::error_code ec;
  if (!fs::is_regular_file(state_file, ec)) {
    return abandon(*id, Error(Errc::not_found,
                              "restore: the state file " + state_file.string() + " does not exist"));
  }
  // Verified before the hypervisor starts, so that damaged memory is never run (one read of
  // the state file; see vmm/snapshot.hpp).
  if (auto verified = verify_digests(bundle, *manifest); !verified) {
    return abandon(*id, in_operation("restore", verified.error()));
  }
  if (manifest->template_memory) {
    if (auto supported = engine_->check_template_support(false); !supported) {
      return abandon(*id, in_operation("restore", supported.error()));
    }
    if (auto present = detail::check_template_memory(bundle, *manifest->template_memory);
        !present) {
      return abandon(*id, in_operation("restore", present.error()));
    }
  }
  detail::Engine* engine = enter(*id);
  if (engine == nullptr) return;
  try {
    if (manifest->template_memory) {
      engine->restore_clone(state_file, bundle / manifest->template_memory->file,
                            result_handler(*id));
    } else {
      engine->restore(state_file, result_handler(*id));
    }
  } catch (const std::exception& e) {
    finish(*id, Error(Errc::backend, std::string("restore: ") + e.what()));
  }
}

void VirtualMachine::Impl::prepare_clone(const fs::path& memory_file, detail::Engine::Done done) {
  {
    std::lock_guard lock(mutex_);
    if (closed_ || state_ != VmState::stopped || in_flight_) {
      done(make_error(Errc::invalid_state, "prepare_clone: the VM is not stopped and idle"));
      return;
    }
  }
  engine_->prepare_clone(memory_file, std::move(done));
}

}  // namespace vmm
