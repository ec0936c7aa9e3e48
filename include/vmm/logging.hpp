// vmm: the logging hook. The library logs through spdlog and, unless given a logger, to a
// logger with no sinks: it never writes to stdout or stderr on its own.
#pragma once

#include <memory>

namespace spdlog {
class logger;
}

namespace vmm {

// Routes the library's log messages to `logger`; nullptr restores the silent default.
void set_logger(std::shared_ptr<spdlog::logger> logger);
std::shared_ptr<spdlog::logger> logger();

}  // namespace vmm
