// One named spdlog logger per component ("scheduler", "executor", "zk", ...).
// Thread-safe; loggers are created on first use and live for the process.
#pragma once

#include <spdlog/spdlog.h>

#include <exception>
#include <functional>
#include <memory>
#include <string>

namespace etcdmesos {

std::shared_ptr<spdlog::logger> logger(const std::string& component);

// Sets the level of every logger ("trace", "debug", "info", "warn", "error").
// Returns false for an unknown level name.
bool set_log_level(const std::string& level);

// Completion handler for a background coroutine (co_spawn): an exception that
// escaped it, a bug since expected failures are values, is logged on `log`
// as "<what> ended with an exception: ..." rather than lost.
std::function<void(std::exception_ptr)> log_escaped(std::shared_ptr<spdlog::logger> log,
                                                    std::string what);

}  // namespace etcdmesos
