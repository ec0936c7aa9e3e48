#include "lifecycle/rounds.hpp"

#include <fcntl.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <future>
#include <optional>
#include <thread>
#include <vmm/file_descriptor.hpp>
#include <vmm/format.hpp>  // fmt formatters for vmm types (opt-in)

#include "common/failure.hpp"
#include "common/host_facts.hpp"
#include "lifecycle/raw_qemu.hpp"

namespace lifecycle {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using vmm::FileDescriptor;
using vmm_bench::errno_text;
using vmm_bench::fail;
using vmm_bench::Failure;
using vmm_bench::ms_between;
using vmm_bench::time_ms;

namespace {

// Reads a file with plain read() into a buffer that is thrown away (like cat > /dev/null).
double read_file_ms(const fs::path& path) {
  const auto begin = Clock::now();
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) fail("cannot open {}: {}", path.string(), errno_text());
  std::vector<char> buffer(1 << 20);
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("cannot read {}: {}", path.string(), errno_text());
    if (n == 0) break;
  }
  return ms_between(begin, Clock::now());
}

double file_mib(const fs::path& path) {
  std::error_code ec;
  const auto bytes = fs::file_size(path, ec);
  if (ec) fail("cannot stat {}: {}", path.string(), ec.message());
  return static_cast<double>(bytes) / (1 << 20);
}

// A vmm operation's future, bounded.
void await(std::future<vmm::Result<void>> operation, std::chrono::seconds timeout,
           std::string_view what) {
  if (operation.wait_for(timeout) != std::future_status::ready) {
    fail("vmm: {} did not complete within {} s", what, timeout.count());
  }
  if (auto result = operation.get(); !result) fail("vmm: {} failed: {}", what, result.error());
}

}  // namespace

void vmm_round(Machine& m, const fs::path& dir, Results& results, const Options& options,
               bool first_size) {
  auto& vm = *m.vm;
  auto& guest = m.vmm_guest;
  const std::string& sz = m.size.label;
  guest.reset();
  const auto begin = Clock::now();
  await(vm.start(), boot_timeout, "start");
  const auto ready = guest.wait_ready(boot_timeout, "vmm");
  results.add("boot to ready, " + sz, 0, ms_between(begin, ready));
  if (!m.argv_checked) {
    auto expected = m.base_argv;
    expected.emplace_back("-S");
    const auto pids = vmm_bench::child_qemu_pids();
    if (pids.size() != 1) fail("argv check: {} QEMU children, expected vmm's one", pids.size());
    const auto actual = vmm_bench::process_argv(pids.front());
    if (!actual) fail("argv check: cannot read vmm's QEMU argv");
    if (*actual != expected) {
      fail("argv check: vmm runs `{}`, the baseline would run `{}`", fmt::join(*actual, " "),
           fmt::join(expected, " "));
    }
    m.argv_checked = true;
  }
  guest.wait_counter_above(0, guest_line_timeout, "vmm");

  if (first_size) {
    std::vector<double> pauses, resumes;
    for (int i = 0; i < options.pause_iterations; ++i) {
      std::this_thread::sleep_for(20ms);
      pauses.push_back(time_ms([&] { await(vm.pause(), command_timeout, "pause"); }));
      std::this_thread::sleep_for(20ms);
      resumes.push_back(time_ms([&] { await(vm.resume(), command_timeout, "resume"); }));
    }
    // Back to back (pause call -> resume acknowledged, no gap): what a caller that pauses
    // briefly sees, including any work an operation leaves behind for the next one.
    std::vector<double> pairs;
    for (int i = 0; i < options.pause_iterations; ++i) {
      std::this_thread::sleep_for(20ms);
      pairs.push_back(time_ms([&] {
        await(vm.pause(), command_timeout, "pause");
        await(vm.resume(), command_timeout, "resume");
      }));
    }
    Samples p{pauses}, r{resumes}, pr{pairs};
    results.add("pause (median of round)", 0, p.median());
    results.add("resume (median of round)", 0, r.median());
    results.add("pause + resume back to back (median of round)", 0, pr.median());
  }

  await(vm.pause(), command_timeout, "pause");
  const fs::path bundle = dir / ("vmm-" + sz + ".bundle");
  std::error_code ec;
  fs::remove_all(bundle, ec);
  const double save_ms =
      time_ms([&] { await(vm.save(bundle), std::chrono::seconds(300), "save"); });
  results.add("save, " + sz, 0, save_ms);
  results.add("save, " + sz + ", vs. baseline + fsync", 0, save_ms);
  const fs::path state_file = bundle / "state.qemu";
  results.add("state file MiB, " + sz, 0, file_mib(state_file));
  results.add("read state file, " + sz, 0, read_file_ms(state_file));
  const long saved_at = guest.counter();
  await(vm.stop(), command_timeout, "stop");

  results.add("restore to running, " + sz, 0, time_ms([&] {
                await(vm.restore(bundle), std::chrono::seconds(300), "restore");
                await(vm.resume(), command_timeout, "resume after restore");
              }));
  guest.wait_counter_above(saved_at, guest_line_timeout, "vmm after restore");
  results.add("stop (running), " + sz, 0,
              time_ms([&] { await(vm.stop(), command_timeout, "stop"); }));
  fs::remove_all(bundle, ec);
}

void base_round(Machine& m, const fs::path& dir, Results& results, const Options& options,
                bool first_size) {
  auto& guest = m.base_guest;
  const std::string& sz = m.size.label;
  const fs::path log = dir / "qemu-stderr.log";
  guest.reset();
  auto with_stderr = [&](RawQemu& q, auto&& body) {
    try {
      body();
    } catch (const Failure& e) {
      fail("{}; QEMU stderr: {}", e.what(), q.stderr_text());
    }
  };

  std::optional<RawQemu> qemu;
  {
    const auto begin = Clock::now();
    auto argv = m.base_argv;
    argv.emplace_back("-S");
    qemu.emplace(std::move(argv), log, guest);
    with_stderr(*qemu, [&] {
      qemu->negotiate();
      qemu->qmp().execute("cont");
    });
    const auto ready = guest.wait_ready(boot_timeout, "baseline");
    results.add("boot to ready, " + sz, 1, ms_between(begin, ready));
  }
  guest.wait_counter_above(0, guest_line_timeout, "baseline");
  auto& qmp = qemu->qmp();

  if (first_size) {
    std::vector<double> pauses, resumes;
    for (int i = 0; i < options.pause_iterations; ++i) {
      std::this_thread::sleep_for(20ms);
      pauses.push_back(time_ms([&] { qmp.execute("stop"); }));
      std::this_thread::sleep_for(20ms);
      resumes.push_back(time_ms([&] { qmp.execute("cont"); }));
    }
    std::vector<double> pairs;
    for (int i = 0; i < options.pause_iterations; ++i) {
      std::this_thread::sleep_for(20ms);
      pairs.push_back(time_ms([&] {
        qmp.execute("stop");
        qmp.execute("cont");
      }));
    }
    Samples p{pauses}, r{resumes}, pr{pairs};
    results.add("pause (median of round)", 1, p.median());
    results.add("resume (median of round)", 1, r.median());
    results.add("pause + resume back to back (median of round)", 1, pr.median());
  }

  qmp.execute("stop");
  const fs::path state_file = dir / ("base-" + sz + ".state");
  ::unlink(state_file.c_str());
  FileDescriptor file;
  const double save_ms = time_ms([&] {
    file.reset(::open(state_file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (file.get() < 0) fail("baseline: cannot create {}: {}", state_file.string(), errno_text());
    qmp.execute("migrate-set-parameters", {{"max-bandwidth", 1LL << 40}});
    qmp.execute("getfd", {{"fdname", "state"}}, command_timeout, file.get());
    qmp.reset_migration_status();
    qmp.execute("migrate", {{"uri", "fd:state"}});
    const auto status = qmp.wait_migration(migration_timeout);
    if (status != "completed") fail("baseline: save ended {}", status);
  });
  results.add("save, " + sz, 1, save_ms);
  // QEMU does not sync the file; vmm's save does (the bundle is durable when save completes).
  // Timed apart, and shown as a second comparison.
  const double fsync_ms = time_ms([&] {
    if (::fsync(file.get()) != 0) fail("baseline: fsync: {}", errno_text());
  });
  results.add("fsync state file (baseline only), " + sz, 1, fsync_ms);
  results.add("save, " + sz + ", vs. baseline + fsync", 1, save_ms + fsync_ms);
  file.reset();
  results.add("state file MiB, " + sz, 1, file_mib(state_file));
  results.add("read state file, " + sz, 1, read_file_ms(state_file));
  const long saved_at = guest.counter();
  qemu->quit();
  qemu.reset();

  results.add("restore to running, " + sz, 1, time_ms([&] {
                FileDescriptor in(::open(state_file.c_str(), O_RDONLY | O_CLOEXEC));
                if (in.get() < 0)
                  fail("baseline: cannot open {}: {}", state_file.string(), errno_text());
                auto argv = m.base_argv;
                argv.insert(argv.end(), {"-S", "-incoming", "defer"});
                qemu.emplace(std::move(argv), log, guest);
                with_stderr(*qemu, [&] {
                  qemu->negotiate();
                  qemu->qmp().execute("getfd", {{"fdname", "state"}}, command_timeout, in.get());
                  in.reset();
                  qemu->qmp().reset_migration_status();
                  qemu->qmp().execute("migrate-incoming", {{"uri", "fd:state"}});
                  const auto status = qemu->qmp().wait_migration(migration_timeout);
                  if (status != "completed") fail("baseline: restore ended {}", status);
                  qemu->qmp().execute("cont");
                });
              }));
  guest.wait_counter_above(saved_at, guest_line_timeout, "baseline after restore");
  results.add("stop (running), " + sz, 1, time_ms([&] { qemu->quit(); }));
  qemu.reset();
  ::unlink(state_file.c_str());
}

}  // namespace lifecycle
