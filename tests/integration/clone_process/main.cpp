// vmm_clone_process: one clone of a template bundle, in a process of its own (issue 14: clones
// in any number of processes at once). QemuTemplateTest starts several of these beside clones
// of its own.
//
//   vmm_clone_process BUNDLE SAVED_AT
//
// Restores BUNDLE (a template) into a new VM, resumes it and waits until the guest prints a
// counter above SAVED_AT + 3 (it continued the template's guest rather than booting). Prints
// "CLONE <first counter> <last counter> <qemu pid>" and exits 0; any failure prints what failed
// on stderr and exits 1. Every wait is bounded.
#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <mutex>
#include <string>
#include <string_view>
#include <vmm/format.hpp>
#include <vmm/vmm.hpp>

namespace {

using namespace std::chrono_literals;

struct Counter {
  std::mutex mutex;
  std::condition_variable changed;
  long first = -1;
  long last = -1;
  bool booted = false;  // a clone must never print the boot marker
  void on_line(std::string_view line) {
    std::lock_guard lock(mutex);
    if (line == "VMM-GUEST-READY") booted = true;
    constexpr std::string_view prefix = "VMM-COUNTER ";
    if (line.substr(0, prefix.size()) != prefix) return;
    long value = 0;
    const auto text = line.substr(prefix.size());
    if (std::from_chars(text.data(), text.data() + text.size(), value).ec != std::errc()) return;
    if (first < 0) first = value;
    last = value;
    changed.notify_all();
  }
};

int fail(const std::string& what) {
  std::fprintf(stderr, "vmm_clone_process: %s\n", what.c_str());
  return 1;
}

template <typename T>
bool ok(std::future<vmm::Result<T>> future, std::string_view what, std::string& error) {
  if (future.wait_for(120s) != std::future_status::ready) {
    error = fmt::format("{} did not complete within 120 s", what);
    return false;
  }
  auto result = future.get();
  if (!result) error = fmt::format("{}: {}", what, result.error());
  return static_cast<bool>(result);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) return fail("usage: vmm_clone_process BUNDLE SAVED_AT");
  const std::string bundle = argv[1];
  const std::string_view saved_text = argv[2];
  long saved_at = 0;
  if (std::from_chars(saved_text.data(), saved_text.data() + saved_text.size(), saved_at).ec !=
      std::errc()) {
    return fail(fmt::format("SAVED_AT must be a number, not \"{}\"", saved_text));
  }
  auto manifest = vmm::read_snapshot_manifest(bundle);
  if (!manifest) return fail(fmt::format("manifest: {}", manifest.error()));
  Counter counter;
  vmm::CreateOptions options;
  options.backend = vmm::Backend::qemu;
  options.on_console_line = [&counter](std::string_view line) { counter.on_line(line); };
  auto vm = vmm::VirtualMachine::create(manifest->config, options);
  if (!vm) return fail(fmt::format("create: {}", vm.error()));
  std::string error;
  if (!ok((*vm)->restore(bundle), "restore", error)) return fail(error);
  if (!ok((*vm)->resume(), "resume", error)) return fail(error);
  {
    std::unique_lock lock(counter.mutex);
    if (!counter.changed.wait_for(lock, 120s, [&] { return counter.last > saved_at + 3; })) {
      return fail(fmt::format("the clone printed no counter above {} (last {})", saved_at + 3,
                              counter.last));
    }
  }
  const auto metrics = (*vm)->metrics();
  const long pid = metrics.hypervisor_pid ? static_cast<long>(*metrics.hypervisor_pid) : -1;
  if (!ok((*vm)->stop(), "stop", error)) return fail(error);
  std::lock_guard lock(counter.mutex);
  if (counter.booted) return fail("the clone booted instead of continuing the template");
  std::printf("CLONE %ld %ld %ld\n", counter.first, counter.last, pid);
  return 0;
}
