#include "vmm/logging.hpp"

#include <spdlog/logger.h>

#include <mutex>

namespace vmm {
namespace {

// A logger with no sinks: the library stays silent until the caller routes it somewhere.
std::shared_ptr<spdlog::logger> silent_logger() {
  static const auto instance = std::make_shared<spdlog::logger>("vmm");
  return instance;
}

std::mutex& logger_mutex() {
  static std::mutex m;
  return m;
}

std::shared_ptr<spdlog::logger>& current() {
  static std::shared_ptr<spdlog::logger> instance = silent_logger();
  return instance;
}

}  // namespace

void set_logger(std::shared_ptr<spdlog::logger> logger) {
  std::lock_guard lock(logger_mutex());
  current() = logger ? std::move(logger) : silent_logger();
}

std::shared_ptr<spdlog::logger> logger() {
  std::lock_guard lock(logger_mutex());
  return current();
}

}  // namespace vmm
