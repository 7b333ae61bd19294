// One named spdlog logger per component ("scheduler", "executor", "zk", ...).
// Thread-safe; loggers are created on first use and live for the process.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace etcdmesos {

std::shared_ptr<spdlog::logger> logger(const std::string& component);

// Sets the level of every logger ("trace", "debug", "info", "warn", "error").
// Returns false for an unknown level name.
bool set_log_level(const std::string& level);

}  // namespace etcdmesos
