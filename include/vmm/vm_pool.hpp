// vmm: a warm pool of clones of one template (opt-in header).
//
// VmPool keeps `size` hypervisor processes started and waiting for a template's device state
// (QEMU: `-incoming defer`, RAM mapped copy-on-write from the template's RAM file). take()
// then costs only loading the device state and resuming: no process start. The pool refills in
// the background, one process at a time, up to `size`; a waiting process that dies is dropped
// and replaced, never handed out. Destroying the pool stops every process it still holds (VMs
// already taken are the caller's). QEMU only: other backends are `unsupported`.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string_view>

#include "vmm/error.hpp"
#include "vmm/virtual_machine.hpp"

namespace vmm {

struct VmPoolOptions {
  std::size_t size = 2;  // processes kept waiting, 1 to 64
  // For every VM of the pool. working_directory must be empty (each VM gets its own);
  // on_console_line is ignored: take() names each VM's own.
  CreateOptions create;
};

class VmPool {
 public:
  // Reads `template_bundle`'s manifest (it must be a template, see
  // VirtualMachine::save_template) and starts filling the pool in the background.
  static Result<std::unique_ptr<VmPool>> create(std::filesystem::path template_bundle,
                                                VmPoolOptions options = {});
  ~VmPool();  // stops the refill and every waiting process; blocks until they are gone
  VmPool(const VmPool&) = delete;
  VmPool& operator=(const VmPool&) = delete;

  // A running clone of the template, with `on_console_line` as its console callback. Takes a
  // waiting process when one is ready (its state loaded and resumed), otherwise makes a clone
  // from scratch (process start included). Blocks until the VM runs.
  Result<std::shared_ptr<VirtualMachine>> take(
      std::function<void(std::string_view line)> on_console_line = {});

  // Processes ready to be taken now.
  std::size_t ready() const;
  // Waits until `size` processes are ready; false after `timeout`.
  bool wait_full(std::chrono::milliseconds timeout) const;

 private:
  struct State;
  explicit VmPool(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace vmm
