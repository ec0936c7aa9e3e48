// bench/lifecycle: the baseline's QMP client, written apart from vmm's on purpose (an independent
// baseline). One command at a time, replies read in order; events are skipped except MIGRATION,
// whose status is remembered, as vmm's engine does.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/measure.hpp"

namespace lifecycle {

using vmm_bench::Clock;
using nlohmann::json;

// Bounds on every wait. TCG boots take a few seconds; a loaded machine can take many more.
inline constexpr std::chrono::seconds boot_timeout{120};
inline constexpr std::chrono::seconds greeting_timeout{30};
inline constexpr std::chrono::seconds command_timeout{10};
inline constexpr std::chrono::seconds exit_timeout{5};
inline constexpr std::chrono::seconds migration_timeout{300};
inline constexpr std::chrono::seconds guest_line_timeout{30};

// Milliseconds left until `deadline`, at least 0 (for poll).
int remaining_ms(Clock::time_point deadline);

class RawQmp {
 public:
  explicit RawQmp(int fd) : fd_(fd) {}

  void read_greeting(std::chrono::milliseconds timeout);

  // Runs `command` (passing `pass_fd` with SCM_RIGHTS when >= 0) and returns its "return".
  json execute(std::string_view command, const json& arguments = json::object(),
               std::chrono::milliseconds timeout = command_timeout, int pass_fd = -1);

  // Reads until a MIGRATION event ends the stream; returns its status.
  std::string wait_migration(std::chrono::milliseconds timeout);

  void reset_migration_status() { migration_status_.clear(); }

 private:
  bool migration_final() const;
  void send(const std::string& text, int pass_fd);
  json read_message(Clock::time_point deadline, std::string_view waiting_for);

  int fd_;
  std::string buffer_;
  std::string migration_status_;
};

}  // namespace lifecycle
