// The QEMU engine against a scripted fake QEMU, for what real QEMU cannot be made to do on
// demand here: stop the guest on an internal (KVM) error, fail a migration, die at start with a
// message. The fake is this very test binary: started with VMM_FAKE_QEMU=<scenario> in its
// environment, it speaks QMP on descriptor 3 (the console is 4) before gtest ever runs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "machine/engine.hpp"
#include "qemu/run.hpp"
#include "test_support.hpp"
#include "vmm/vmm.hpp"

namespace {

using nlohmann::json;

void write_line(int fd, const std::string& text) {
  const std::string line = text + "\r\n";
  [[maybe_unused]] const auto n = ::write(fd, line.data(), line.size());
}

void event(int fd, const std::string& name, const json& data = json::object()) {
  write_line(fd, json{{"event", name}, {"data", data}, {"timestamp", {{"seconds", 0}}}}.dump());
}

// The fake QEMU: answers every command with {} unless the scenario says otherwise.
[[noreturn]] void run_fake_qemu(const std::string& scenario) {
  constexpr int qmp = 3;
  constexpr int console = 4;
  // Without the QMP descriptor this is not a run but the engine's `-help` probe: no options.
  if (::fcntl(qmp, F_GETFD) == -1) std::_Exit(0);
  if (scenario == "start-failure") {
    std::fputs("qemu-system-x86_64: error: failed to set MSR 0x10a to 0x0\n", stderr);
    std::_Exit(1);
  }
  write_line(qmp, R"({"QMP": {"version": {"qemu": {"major": 7, "minor": 2}}, "capabilities": []}})");
  std::string pending;
  char buffer[4096];
  for (;;) {
    // "echo-console": the guest's serial port echoes what it receives, upper-cased.
    pollfd fds[2] = {{qmp, POLLIN, 0}, {console, POLLIN, 0}};
    if (::poll(fds, scenario == "echo-console" ? 2 : 1, -1) < 0) continue;
    if ((fds[1].revents & POLLIN) != 0) {
      const auto got = ::read(console, buffer, sizeof buffer);
      if (got <= 0) std::_Exit(0);
      for (auto i = 0; i < got; ++i) buffer[i] = static_cast<char>(std::toupper(buffer[i]));
      [[maybe_unused]] const auto echoed = ::write(console, buffer, static_cast<std::size_t>(got));
    }
    if ((fds[0].revents & (POLLIN | POLLHUP)) == 0) continue;
    const auto n = ::read(qmp, buffer, sizeof buffer);
    if (n <= 0) std::_Exit(0);
    pending.append(buffer, static_cast<std::size_t>(n));
    std::size_t newline = 0;
    while ((newline = pending.find('\n')) != std::string::npos) {
      const auto command = json::parse(pending.substr(0, newline), nullptr, false);
      pending.erase(0, newline + 1);
      if (command.is_discarded()) continue;
      const std::string name = command.value("execute", "");
      const auto id = command["id"];
      // The pause scenarios: `stop` unanswered, refused, or the end of QEMU.
      if (name == "stop" && scenario == "stop-unanswered") continue;
      if (name == "stop" && scenario == "stop-refused") {
        write_line(qmp, json{{"error", {{"class", "GenericError"}, {"desc", "not now"}}},
                             {"id", id}}
                            .dump());
        continue;
      }
      if (name == "stop" && scenario == "stop-dies") {
        std::fputs("qemu-system-x86_64: dying on stop\n", stderr);
        std::_Exit(3);
      }
      json result = json::object();
      if (name == "query-status") {
        result = {{"status", scenario == "internal-error" ? "internal-error" : "running"},
                  {"running", scenario != "internal-error"}};
      } else if (name == "query-migrate") {
        result = {{"status", "failed"}, {"error-desc", "No space left on device"}};
      }
      write_line(qmp, json{{"return", result}, {"id", id}}.dump());
      if (name == "cont" && scenario == "internal-error") {
        event(qmp, "STOP");
      } else if (name == "cont" && scenario == "guest-poweroff") {
        write_line(console, "last words from the guest");
        event(qmp, "SHUTDOWN", {{"guest", true}, {"reason", "guest-shutdown"}});
        std::_Exit(0);
      } else if (name == "migrate" && scenario == "migrate-fails") {
        event(qmp, "MIGRATION", {{"status", "setup"}});
        event(qmp, "MIGRATION", {{"status", "failed"}});
      } else if (name == "quit") {
        event(qmp, "SHUTDOWN", {{"guest", false}, {"reason", "host-qmp-quit"}});
        std::_Exit(0);
      }
    }
  }
}

// Runs before gtest's main in the fake's process; a no-op in the test process itself.
const bool fake_qemu_checked = [] {
  if (const char* scenario = std::getenv("VMM_FAKE_QEMU")) run_fake_qemu(scenario);
  return true;
}();

}  // namespace

namespace vmm::qemu {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

class Listener : public detail::EngineListener {
 public:
  void on_guest_stopped() override {
    std::lock_guard lock(mutex_);
    ++stopped_;
    changed_.notify_all();
  }
  void on_engine_failed(Error reason) override {
    std::lock_guard lock(mutex_);
    failure_ = std::move(reason);
    changed_.notify_all();
  }
  bool wait_stopped() {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 60s, [&] { return stopped_ > 0; });
  }
  std::optional<Error> failure_now() {
    std::lock_guard lock(mutex_);
    return failure_;
  }
  std::optional<Error> wait_failure() {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, 60s, [&] { return failure_.has_value(); });
    return failure_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int stopped_ = 0;
  std::optional<Error> failure_;
};

template <typename Op>
Result<void> await(Op op) {
  auto promise = std::make_shared<std::promise<Result<void>>>();
  auto future = promise->get_future();
  op([promise](Result<void> result) { promise->set_value(std::move(result)); });
  if (future.wait_for(60s) != std::future_status::ready) {
    return make_error(Errc::timeout, "the engine did not complete the operation");
  }
  return future.get();
}

class FakeQemuEngineTest : public ::testing::Test {
 protected:
  void TearDown() override {
    engine_.reset();
    ::unsetenv("VMM_FAKE_QEMU");
  }

  void create(const std::string& scenario, SerialConsole serial = {}) {
    ::setenv("VMM_FAKE_QEMU", scenario.c_str(), 1);
    auto config = VmConfig::builder()
                      .cpus(1)
                      .memory(Size::mib(256))
                      .linux_boot(scratch_.file("vmlinuz"), std::nullopt, "console=ttyS0")
                      .serial(serial)
                      .build();
    ASSERT_TRUE(config) << config.error().to_string();
    CreateOptions options;
    options.qemu.binary = std::filesystem::read_symlink("/proc/self/exe");
    options.qemu.acceleration = Acceleration::tcg;
    options.on_console_line = [this](std::string_view line) {
      std::lock_guard lock(lines_mutex_);
      lines_.emplace_back(line);
    };
    auto engine = detail::make_qemu_engine(*config, options, scratch_.path() / "work");
    ASSERT_TRUE(engine) << engine.error().to_string();
    engine_ = std::move(*engine);
    engine_->set_listener(listener_);
  }

  std::vector<std::string> lines() {
    std::lock_guard lock(lines_mutex_);
    return lines_;
  }

  testing::ScratchDir scratch_;
  std::shared_ptr<Listener> listener_ = std::make_shared<Listener>();
  std::unique_ptr<detail::Engine> engine_;
  std::ostringstream log_stream_;
  std::mutex lines_mutex_;
  std::vector<std::string> lines_;
};

TEST_F(FakeQemuEngineTest, InternalErrorStopIsAnEngineFailureEvenThoughQemuLives) {
  create("internal-error");
  ASSERT_TRUE(await([&](auto done) { engine_->start(done); }));
  const auto failure = listener_->wait_failure();
  ASSERT_TRUE(failure) << "an internal-error stop went unnoticed";
  EXPECT_EQ(failure->code(), Errc::backend);
  EXPECT_THAT(failure->message(), HasSubstr("internal error"));
}

TEST_F(FakeQemuEngineTest, QemuFailingAtStartFailsStartWithItsStderrAndExitCode) {
  create("start-failure");
  const auto started = await([&](auto done) { engine_->start(done); });
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().code(), Errc::backend);
  EXPECT_THAT(started.error().message(), HasSubstr("exit code 1"));
  EXPECT_THAT(started.error().message(), HasSubstr("failed to set MSR 0x10a"));
  // Reported through start's Done only: once a later operation has gone through the worker
  // (after the exit handling queued before it), no engine failure has been reported.
  ASSERT_TRUE(await([&](auto done) { engine_->stop(done); }));
  EXPECT_FALSE(listener_->failure_now().has_value());
}

// QEMU's stderr goes to the run's log file in the working directory and, line by line, to the
// user's logger at debug; the error still quotes it.
TEST_F(FakeQemuEngineTest, StderrGoesToTheRunLogAndTheLoggerAtDebug) {
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_stream_);
  auto logger = std::make_shared<spdlog::logger>("jail-test", sink);
  logger->set_level(spdlog::level::debug);
  logger->set_pattern("%l %v");
  vmm::set_logger(logger);
  create("start-failure");
  EXPECT_FALSE(engine_->log_path().has_value()) << "no run yet";
  const auto started = await([&](auto done) { engine_->start(done); });
  vmm::set_logger(nullptr);
  ASSERT_FALSE(started);
  EXPECT_THAT(started.error().message(), HasSubstr("failed to set MSR 0x10a"));
  const auto path = engine_->log_path();
  ASSERT_TRUE(path.has_value());
  EXPECT_EQ(path->parent_path(), scratch_.path() / "work");
  std::ifstream in(*path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x0\n");
  EXPECT_THAT(log_stream_.str(),
              HasSubstr("debug qemu: qemu-system-x86_64: error: failed to set MSR 0x10a to 0x0"));
}

TEST_F(FakeQemuEngineTest, GuestShutdownIsAGuestStopAfterTheLastConsoleLine) {
  create("guest-poweroff");
  ASSERT_TRUE(await([&](auto done) { engine_->start(done); }));
  ASSERT_TRUE(listener_->wait_stopped());
  EXPECT_THAT(lines(), ::testing::Contains("last words from the guest"));
}

TEST_F(FakeQemuEngineTest, FailedMigrationFailsSaveWithQemusReasonAndRemovesTheFile) {
  create("migrate-fails");
  ASSERT_TRUE(await([&](auto done) { engine_->start(done); }));
  ASSERT_TRUE(await([&](auto done) { engine_->pause(done); }));
  const auto state = scratch_.path() / "state.qemu";
  const auto saved = await([&](auto done) { engine_->save(state, done); });
  ASSERT_FALSE(saved);
  EXPECT_EQ(saved.error().code(), Errc::backend);
  EXPECT_THAT(saved.error().message(), HasSubstr("No space left on device"));
  EXPECT_FALSE(std::filesystem::exists(state));
  ASSERT_TRUE(await([&](auto done) { engine_->stop(done); }));
}

// pause is sent from the caller's thread and completed by the worker (Core::send_now); its
// failures must still reach its Done: QEMU's refusal, QEMU's death, and no answer at all.
TEST_F(FakeQemuEngineTest, ARefusedPauseFailsWithQemusErrorAndTheRunGoesOn) {
  create("stop-refused");
  ASSERT_TRUE(await([&](auto done) { engine_->start(done); }));
  const auto paused = await([&](auto done) { engine_->pause(done); });
  ASSERT_FALSE(paused);
  EXPECT_EQ(paused.error().code(), Errc::backend);
  EXPECT_THAT(paused.error().message(), HasSubstr("stop: QEMU reported GenericError: not now"));
  ASSERT_TRUE(await([&](auto done) { engine_->resume(done); }));  // QEMU still answers
  ASSERT_TRUE(await([&](auto done) { engine_->stop(done); }));
  EXPECT_FALSE(listener_->failure_now().has_value());
}

TEST_F(FakeQemuEngineTest, QemuDyingOnAPauseFailsItAndIsReported) {
  create("stop-dies");
  ASSERT_TRUE(await([&](auto done) { engine_->start(done); }));
  const auto paused = await([&](auto done) { engine_->pause(done); });
  ASSERT_FALSE(paused);
  EXPECT_EQ(paused.error().code(), Errc::backend);
  EXPECT_THAT(paused.error().message(), HasSubstr("stop"));
  const auto failure = listener_->wait_failure();
  ASSERT_TRUE(failure) << "QEMU's death went unreported";
  EXPECT_THAT(failure->message(), HasSubstr("exit code 3"));
  EXPECT_THAT(failure->message(), HasSubstr("dying on stop"));
}

TEST_F(FakeQemuEngineTest, AnUnansweredPauseTimesOutInsteadOfHanging) {
  create("stop-unanswered");
  ASSERT_TRUE(await([&](auto done) { engine_->start(done); }));
  const auto begin = std::chrono::steady_clock::now();
  const auto paused = await([&](auto done) { engine_->pause(done); });
  ASSERT_FALSE(paused);
  EXPECT_EQ(paused.error().code(), Errc::timeout);
  EXPECT_THAT(paused.error().message(), HasSubstr("did not answer stop"));
  // command_timeout (10 s), noticed by the worker within its one-second poll bound.
  EXPECT_LT(std::chrono::steady_clock::now() - begin, command_timeout + 3s);
  ASSERT_TRUE(await([&](auto done) { engine_->stop(done); }));
}

TEST_F(FakeQemuEngineTest, SerialFdGetsGuestOutputAndFeedsGuestInput) {
  std::array<int, 2> pair{};
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair.data()), 0);
  const FileDescriptor user(pair[0]);
  const FileDescriptor vm_side(pair[1]);
  create("echo-console", SerialToFd{vm_side.get()});
  ASSERT_TRUE(await([&](auto done) { engine_->start(done); }));
  // Typed on the serial fd -> guest input; the guest's echo -> both the fd and the line callback.
  ASSERT_EQ(::write(user.get(), "ping\n", 5), 5);
  std::string echoed;
  while (echoed.size() < 5) {
    std::array<char, 16> buffer{};
    const auto n = ::read(user.get(), buffer.data(), buffer.size());
    ASSERT_GT(n, 0);
    echoed.append(buffer.data(), static_cast<std::size_t>(n));
  }
  EXPECT_EQ(echoed, "PING\n");
  ASSERT_TRUE(await([&](auto done) { engine_->stop(done); }));
  EXPECT_THAT(lines(), ::testing::Contains("PING"));
}

}  // namespace
}  // namespace vmm::qemu

