// Agent: executor containers — sandbox, fetch, spawn, registration timeout,
// exit handling.
#include "agent.hpp"

#include "common/log.hpp"
#include "fetcher.hpp"
#include "util.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fstream>

namespace etcdmesos::devcluster {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

auto log() {
  return etcdmesos::logger("agent");
}

constexpr std::chrono::minutes kFetchTimeout{5};

// Lines in the sandbox's stderr, as Mesos' fetcher writes its log there.
void sandbox_log(const fs::path& sandbox, const std::string& line) {
  std::ofstream out(sandbox / "stderr", std::ios::app);
  out << line << "\n";
}

int raw_wait_status(const io::ExitStatus& status) {
  // What waitpid reports: the signal number, or the exit code << 8.
  return status.signaled ? status.code : (status.code << 8);
}

}  // namespace

asio::awaitable<void> Agent::start_executor(std::shared_ptr<ExecutorRun> run) {
  std::error_code ec;
  fs::create_directories(run->sandbox, ec);
  if (ec) {
    fail_launch(run,
                "Failed to create the sandbox '" + run->sandbox.string() + "': " + ec.message());
    co_return;
  }
  fs::path latest = run->sandbox.parent_path() / "latest";
  fs::remove(latest, ec);
  fs::create_directory_symlink(run->container_id, latest, ec);

  const auto& uris = run->info.command->uris;
  for (const auto& uri : uris) {
    sandbox_log(run->sandbox, "Fetching '" + uri.value + "'");
    if (uri.extract) {
      sandbox_log(run->sandbox, "  (not extracting: mesos-devcluster stores URIs as they are)");
    }
    const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(kFetchTimeout);
    Result<fs::path> fetched = make_error("not fetched");
    if (uri.cache) {
      // Keyed by the user the fetch is for, as Mesos' cache is.
      const std::string user = run->info.command->user.value_or(run->framework.user);
      auto cached = co_await fetcher_cache_.fetch(uri, user, run->sandbox, kMaxFetchBytes, timeout);
      if (cached) {
        sandbox_log(run->sandbox, cached->from_cache
                                      ? "  (copied from the fetcher cache, no download)"
                                      : "  (downloaded into the fetcher cache)");
        fetched = Result<fs::path>(boost::system::in_place_value, cached->path);
      } else {
        fetched = Result<fs::path>(boost::system::in_place_error, cached.error());
      }
    } else {
      fetched = co_await fetch_uri(ex_, uri, run->sandbox, kMaxFetchBytes, timeout);
    }
    if (run->silent || run->state != ExecutorRun::State::kFetching) {
      fail_launch(run, "Executor was shut down while fetching");
      co_return;
    }
    if (!fetched) {
      fail_launch(run, fetched.error().message);
      co_return;
    }
    sandbox_log(run->sandbox, "Fetched '" + uri.value + "' to '" + fetched->string() + "'");
  }
  if (run->silent || run->state != ExecutorRun::State::kFetching) {
    fail_launch(run, "Executor was shut down before it started");
    co_return;
  }
  if (auto spawned = spawn_executor(*run); !spawned) {
    fail_launch(run, "Failed to launch the executor: " + spawned.error().message);
    co_return;
  }
  run->state = ExecutorRun::State::kRegistering;
  log()->info("agent '{}': executor '{}' of framework '{}' started, pid {}", config_.id,
              run->info.executor_id, run->framework_id, run->pid);
  asio::co_spawn(ex_, registration_timeout(run), asio::detached);
  asio::co_spawn(ex_, watch_executor(run), asio::detached);
}

Result<void> Agent::spawn_executor(ExecutorRun& run) {
  const mesos::CommandInfo& command = *run.info.command;
  io::SpawnOptions options;
  if (command.shell) {
    options.argv = {"/bin/sh", "-c", *command.value};
  } else {
    // execv(value, arguments): SpawnOptions has no separate program path, so
    // argv[0] becomes the command value.
    options.argv =
        command.arguments.empty() ? std::vector<std::string>{*command.value} : command.arguments;
    options.argv[0] = *command.value;
  }
  const std::string endpoint = config_.ip + ":" + std::to_string(port_);
  const bool checkpoint = run.framework.checkpoint;
  auto grace = config_.shutdown_grace_period;
  if (run.info.shutdown_grace_period_ns) {
    grace = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::nanoseconds(*run.info.shutdown_grace_period_ns));
  }
  auto& env = options.env;  // exactly what a Mesos agent gives (reference §15)
  env["MESOS_FRAMEWORK_ID"] = run.framework_id;
  env["MESOS_EXECUTOR_ID"] = run.info.executor_id;
  env["MESOS_DIRECTORY"] = run.sandbox.string();
  env["MESOS_SANDBOX"] = run.sandbox.string();
  env["MESOS_AGENT_ENDPOINT"] = endpoint;
  env["MESOS_SLAVE_ID"] = config_.id;
  env["MESOS_SLAVE_PID"] = "slave(1)@" + endpoint;
  env["MESOS_CHECKPOINT"] = checkpoint ? "1" : "0";
  env["MESOS_HTTP_COMMAND_EXECUTOR"] = "0";
  env["MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD"] = format_mesos_duration(grace);
  if (checkpoint) {
    env["MESOS_RECOVERY_TIMEOUT"] = "15mins";
    env["MESOS_SUBSCRIPTION_BACKOFF_MAX"] = "2secs";
  }
  env["LIBPROCESS_PORT"] = "0";
  env["LIBPROCESS_IP"] = config_.ip;
  env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const auto& variable : command.environment) {
    env[variable.name] = variable.value;  // framework-supplied values win
  }
  options.cwd = run.sandbox.string();
  options.stdout_path = (run.sandbox / "stdout").string();
  options.stderr_path = (run.sandbox / "stderr").string();
  auto process = io::Process::spawn(ex_, options);
  if (!process) {
    return process.error();
  }
  run.process = std::move(*process);
  run.pid = run.process->pid();
  return {};
}

asio::awaitable<void> Agent::registration_timeout(std::shared_ptr<ExecutorRun> run) {
  run->timer.expires_after(config_.registration_timeout);
  boost::system::error_code ec;
  co_await run->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (ec || run->state != ExecutorRun::State::kRegistering) {
    co_return;
  }
  auto waited = format_mesos_duration(config_.registration_timeout);
  log()->warn("agent '{}': executor '{}' did not subscribe within {}; killing it", config_.id,
              run->info.executor_id, waited);
  run->termination_reason = "REASON_EXECUTOR_REGISTRATION_TIMEOUT";
  run->termination_message = "Executor did not register within " + waited;
  kill_process_tree(*run);
}

asio::awaitable<void> Agent::watch_executor(std::shared_ptr<ExecutorRun> run) {
  io::ExitStatus status = co_await run->process->wait();
  log()->info("agent '{}': executor '{}' of framework '{}' {}", config_.id, run->info.executor_id,
              run->framework_id, status.describe());
  if (!run->silent) {
    sandbox_log(run->sandbox, "Executor " + status.describe());
  }
  bool shutting_down = run->state == ExecutorRun::State::kTerminating;
  if (!run->termination_message) {
    run->termination_message = "Executor terminated: " + status.describe();
  }
  on_executor_exit(run, raw_wait_status(status), shutting_down);
}

void Agent::on_executor_exit(const std::shared_ptr<ExecutorRun>& run, int wait_status,
                             bool shutting_down) {
  run->state = ExecutorRun::State::kTerminated;
  run->timer.cancel();
  if (run->stream) {
    run->stream->abort();
  }
  auto key = ExecutorKey{run->framework_id, run->info.executor_id};
  if (auto it = runs_.find(key); it != runs_.end() && it->second == run) {
    runs_.erase(it);
  }
  if (run->silent || !running_) {
    return;  // host lost or framework removed: nobody to tell
  }
  for (const auto& task_id : run->task_ids) {
    Task* task = find_task(run->framework_id, task_id);
    if (task == nullptr || mesos::is_terminal(task->state)) {
      continue;
    }
    bool killed = shutting_down || run->kill_requested.contains(task_id);
    send_agent_update(run->framework_id, *task,
                      killed ? mesos::TaskState::kKilled : mesos::TaskState::kFailed,
                      run->termination_reason.value_or("REASON_EXECUTOR_TERMINATED"),
                      run->termination_message.value_or("Executor terminated"));
  }
  master_.executor_terminated(config_.id, run->framework_id, run->info.executor_id, wait_status);
}

void Agent::fail_launch(const std::shared_ptr<ExecutorRun>& run, const std::string& message) {
  log()->warn("agent '{}': executor '{}' of framework '{}' failed to start: {}", config_.id,
              run->info.executor_id, run->framework_id, message);
  std::error_code ec;
  if (fs::exists(run->sandbox, ec)) {
    sandbox_log(run->sandbox, message);
  }
  if (!run->termination_reason) {
    run->termination_reason = "REASON_CONTAINER_LAUNCH_FAILED";
  }
  run->termination_message = message;
  // Mesos reports -1 when a container ended without an exit status.
  on_executor_exit(run, -1, run->state == ExecutorRun::State::kTerminating);
}

}  // namespace etcdmesos::devcluster
