// One named spdlog logger per component ("scheduler", "executor", "zk", ...).
// Thread-safe; loggers are created on first use and live for the process.
#pragma once

#include <spdlog/spdlog.h>

#include <exception>
#include <memory>
#include <string>
#include <utility>

namespace etcdmesos {

std::shared_ptr<spdlog::logger> logger(const std::string& component);

// Sets the level of every logger ("trace", "debug", "info", "warn", "error").
// Returns false for an unknown level name.
bool set_log_level(const std::string& level);

// Completion handler for boost::asio::co_spawn on a coroutine that is not
// meant to throw: the shell's coroutines return errors as values, so an
// exception that escapes one is a bug, logged on `log` as
// "<what> ended with an exception: <reason>" at `level` rather than lost.
class LogExceptions {
 public:
  LogExceptions(std::shared_ptr<spdlog::logger> log, std::string what,
                spdlog::level::level_enum level)
      : log_(std::move(log)), what_(std::move(what)), level_(level) {}
  void operator()(std::exception_ptr e) const;

 private:
  std::shared_ptr<spdlog::logger> log_;
  std::string what_;
  spdlog::level::level_enum level_;
};

inline LogExceptions log_exceptions(std::shared_ptr<spdlog::logger> log, std::string what,
                                    spdlog::level::level_enum level = spdlog::level::err) {
  return LogExceptions(std::move(log), std::move(what), level);
}

}  // namespace etcdmesos
