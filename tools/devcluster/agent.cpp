// Agent: lifecycle, the master's requests, and the status update manager.
#include "agent.hpp"

#include "common/log.hpp"
#include "process_tree.hpp"
#include "util.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <csignal>

namespace etcdmesos::devcluster {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

auto log() {
  return etcdmesos::logger("agent");
}

}  // namespace

const char* Agent::to_string(ExecutorRun::State state) {
  switch (state) {
    case ExecutorRun::State::kFetching:
      return "FETCHING";
    case ExecutorRun::State::kRegistering:
      return "REGISTERING";
    case ExecutorRun::State::kRunning:
      return "RUNNING";
    case ExecutorRun::State::kTerminating:
      return "TERMINATING";
    case ExecutorRun::State::kTerminated:
      return "TERMINATED";
  }
  return "?";
}

Agent::Agent(asio::any_io_executor ex, AgentConfig config, MasterLink& master)
    : ex_(std::move(ex)),
      config_(std::move(config)),
      master_(master),
      fetcher_cache_(ex_, config_.fetcher_cache_dir, config_.fetcher_cache_bytes) {}

Agent::~Agent() {
  if (server_) {
    server_->stop();
  }
}

mesos::AgentInfo Agent::info() const {
  mesos::AgentInfo info;
  info.id = config_.id;
  info.hostname = config_.ip;
  info.port = port_;
  info.resources = config_.resources.to_mesos(std::nullopt);
  return info;
}

Result<void> Agent::start() {
  if (running_) {
    return {};
  }
  if (server_) {
    // Handlers of the stopped server may still be unwinding; keep it alive.
    retired_servers_.push_back(std::move(server_));
  }
  server_ = std::make_unique<io::HttpServer>(
      ex_, [this](io::HttpExchange& exchange) { return handle_http(exchange); });
  uint16_t wanted = port_ != 0 ? port_ : config_.port;
  auto bound = server_->listen(io::Endpoint{config_.ip, wanted});
  if (!bound && port_ != 0 && config_.port == 0) {
    log()->warn("agent '{}': port {} is taken, using a new one", config_.id, port_);
    bound = server_->listen(io::Endpoint{config_.ip, 0});
  }
  if (!bound) {
    return make_error("agent " + config_.id + " cannot listen on " + config_.ip + ":" +
                      std::to_string(wanted) + ": " + bound.error().message);
  }
  // A Mesos agent clears its fetcher cache directory on startup: a host
  // that comes back starts with an empty cache.
  if (auto reset = fetcher_cache_.reset(); !reset) {
    server_->stop();
    return make_error("agent " + config_.id + ": " + reset.error().message);
  }
  port_ = bound->port;
  running_ = true;
  ++generation_;
  asio::co_spawn(ex_, resend_loop(generation_), asio::detached);
  log()->info("agent '{}' listening on http://{}:{}", config_.id, config_.ip, port_);
  return {};
}

void Agent::stop() {
  if (!running_) {
    return;
  }
  log()->info("agent '{}' stopping, killing {} executor(s)", config_.id, runs_.size());
  running_ = false;
  ++generation_;
  server_->stop();
  for (auto& [key, run] : runs_) {
    run->silent = true;
    run->timer.cancel();
    if (run->stream) {
      run->stream->abort();
    }
    kill_process_tree(*run);
    orphans_.push_back(run);
  }
  runs_.clear();
  tasks_.clear();
  frameworks_.clear();
}

std::size_t Agent::kill_all() {
  stop();
  for (const auto& weak : orphans_) {
    if (auto run = weak.lock()) {
      kill_process_tree(*run);
    }
  }
  return live_processes();
}

std::size_t Agent::live_processes() const {
  std::size_t live = 0;
  auto counts = [](const std::shared_ptr<ExecutorRun>& run) {
    return run && run->process && run->state != ExecutorRun::State::kTerminated;
  };
  for (const auto& [key, run] : runs_) {
    live += counts(run) ? 1 : 0;
  }
  for (const auto& weak : orphans_) {
    live += counts(weak.lock()) ? 1 : 0;
  }
  return live;
}

Agent::Task* Agent::find_task(const std::string& framework_id, const std::string& task_id) {
  auto it = tasks_.find({framework_id, task_id});
  return it == tasks_.end() ? nullptr : &it->second;
}

std::shared_ptr<Agent::ExecutorRun> Agent::find_run(const std::string& framework_id,
                                                    const std::string& executor_id) const {
  auto it = runs_.find({framework_id, executor_id});
  return it == runs_.end() ? nullptr : it->second;
}

void Agent::kill_process_tree(ExecutorRun& run) {
  if (run.process && run.state != ExecutorRun::State::kTerminated) {
    kill_tree(run.pid, SIGKILL);
  }
}

// ------------------------------------------------------------ master -> agent

void Agent::launch(const mesos::FrameworkInfo& framework, mesos::TaskInfo task) {
  if (!running_) {
    return;
  }
  const std::string framework_id = framework.id.value_or("");
  const std::string executor_id = task.executor->executor_id;
  const std::string task_id = task.task_id;
  auto run = find_run(framework_id, executor_id);
  frameworks_[framework_id] = framework;
  Task& record = tasks_[{framework_id, task_id}];
  record = Task{};
  record.info = std::move(task);
  record.executor_id = executor_id;
  if (run && run->state == ExecutorRun::State::kTerminating) {
    bool aware = std::count(framework.capabilities.begin(), framework.capabilities.end(),
                            "PARTITION_AWARE") > 0;
    send_agent_update(framework_id, record,
                      aware ? mesos::TaskState::kDropped : mesos::TaskState::kLost,
                      "REASON_EXECUTOR_TERMINATED", "Executor is terminating");
    return;
  }
  if (!run) {
    run = std::make_shared<ExecutorRun>(ex_);
    run->framework_id = framework_id;
    run->framework = framework;
    run->info = *record.info.executor;
    run->container_id = new_uuid_string();
    run->sandbox = config_.work_dir / "slaves" / config_.id / "frameworks" / framework_id /
                   "executors" / executor_id / "runs" / run->container_id;
    runs_[{framework_id, executor_id}] = run;
    asio::co_spawn(ex_, start_executor(run), asio::detached);
  }
  run->task_ids.push_back(task_id);
  if (run->state == ExecutorRun::State::kRunning) {
    deliver_queued(*run);
  }
}

void Agent::deliver_queued(ExecutorRun& run) {
  if (!run.stream || run.stream->closed()) {
    return;  // delivered when the executor (re-)subscribes
  }
  for (const auto& task_id : run.task_ids) {
    Task* task = find_task(run.framework_id, task_id);
    if (task == nullptr || task->delivered || mesos::is_terminal(task->state)) {
      continue;
    }
    run.stream->push(mesos::encode(mesos::ExecutorEvent{mesos::ExecutorEventLaunch{task->info}}));
    task->delivered = true;
  }
}

void Agent::kill_task(const std::string& framework_id, const std::string& task_id,
                      std::optional<int64_t> grace_period_ns) {
  Task* task = find_task(framework_id, task_id);
  if (task == nullptr || mesos::is_terminal(task->state)) {
    return;
  }
  auto run = find_run(framework_id, task->executor_id);
  if (!run || run->state == ExecutorRun::State::kTerminated) {
    return;
  }
  if (!task->delivered) {
    send_agent_update(framework_id, *task, mesos::TaskState::kKilled,
                      "REASON_TASK_KILLED_DURING_LAUNCH", "Killed before delivery to the executor");
    return;
  }
  run->kill_requested.insert(task_id);
  if (run->stream && !run->stream->closed()) {
    run->stream->push(
        mesos::encode(mesos::ExecutorEvent{mesos::ExecutorEventKill{task_id, grace_period_ns}}));
  }
}

void Agent::shutdown_executor(const std::string& framework_id, const std::string& executor_id) {
  if (auto run = find_run(framework_id, executor_id)) {
    begin_shutdown(run);
  }
}

void Agent::shutdown_framework(const std::string& framework_id) {
  for (auto& [key, run] : runs_) {
    if (key.first == framework_id) {
      run->silent = true;
      begin_shutdown(run);
    }
  }
  std::erase_if(tasks_, [&](const auto& entry) { return entry.first.first == framework_id; });
  frameworks_.erase(framework_id);
}

void Agent::begin_shutdown(const std::shared_ptr<ExecutorRun>& run) {
  using S = ExecutorRun::State;
  if (run->state == S::kTerminating || run->state == S::kTerminated) {
    return;
  }
  S before = run->state;
  run->state = S::kTerminating;
  log()->info("agent '{}': shutting down executor '{}' of framework '{}' ({})", config_.id,
              run->info.executor_id, run->framework_id, to_string(before));
  if (!run->silent) {
    // Tasks the executor never received are killed here.
    for (const auto& task_id : run->task_ids) {
      Task* task = find_task(run->framework_id, task_id);
      if (task != nullptr && !task->delivered && !mesos::is_terminal(task->state)) {
        send_agent_update(run->framework_id, *task, mesos::TaskState::kKilled,
                          "REASON_TASK_KILLED_DURING_LAUNCH",
                          "Killed before delivery to the executor");
      }
    }
  }
  if (before == S::kFetching) {
    return;  // start_executor notices and stops before spawning
  }
  if (run->stream && !run->stream->closed()) {
    run->stream->push(mesos::encode(mesos::ExecutorEvent{mesos::ExecutorEventShutdown{}}));
  }
  auto grace = config_.shutdown_grace_period;
  if (run->info.shutdown_grace_period_ns) {
    grace = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::nanoseconds(std::max<int64_t>(0, *run->info.shutdown_grace_period_ns)));
  }
  asio::co_spawn(ex_, shutdown_grace(run, grace), asio::detached);
}

asio::awaitable<void> Agent::shutdown_grace(std::shared_ptr<ExecutorRun> run,
                                            std::chrono::milliseconds grace) {
  run->timer.expires_after(grace);
  boost::system::error_code ec;
  co_await run->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (run->state != ExecutorRun::State::kTerminated) {
    log()->info("agent '{}': executor '{}' still running after the grace period; killing it",
                config_.id, run->info.executor_id);
    kill_process_tree(*run);
  }
}

void Agent::send_message(const std::string& framework_id, const std::string& executor_id,
                         std::string data) {
  auto run = find_run(framework_id, executor_id);
  if (!run || !run->stream || run->stream->closed()) {
    return;  // best effort, as in Mesos
  }
  run->stream->push(
      mesos::encode(mesos::ExecutorEvent{mesos::ExecutorEventMessage{std::move(data)}}));
}

json::object Agent::fetcher_cache_json() const {
  const auto s = fetcher_cache_.stats();
  return json::object{{"dir", fetcher_cache_.dir().string()},
                      {"entries", s.entries},
                      {"bytes", s.bytes},
                      {"downloads", s.downloads},
                      {"hits", s.hits},
                      {"evictions", s.evictions}};
}

json::array Agent::executors_json() const {
  json::array out;
  for (const auto& [key, run] : runs_) {
    json::array tasks;
    for (const auto& task_id : run->task_ids) {
      auto it = tasks_.find({run->framework_id, task_id});
      if (it != tasks_.end()) {
        tasks.push_back(
            json::object{{"id", task_id}, {"state", mesos::to_string(it->second.state)}});
      }
    }
    out.push_back(json::object{{"framework_id", run->framework_id},
                               {"executor_id", run->info.executor_id},
                               {"container_id", run->container_id},
                               {"pid", run->pid},
                               {"state", to_string(run->state)},
                               {"sandbox", run->sandbox.string()},
                               {"tasks", std::move(tasks)}});
  }
  return out;
}

// ------------------------------------------------------------ status update manager

void Agent::send_agent_update(const std::string& framework_id, Task& task, mesos::TaskState state,
                              std::optional<std::string> reason, std::string message) {
  mesos::TaskStatus status;
  status.task_id = task.info.task_id;
  status.state = state;
  status.message = std::move(message);
  status.source = "SOURCE_AGENT";
  status.reason = std::move(reason);
  status.agent_id = config_.id;
  status.executor_id = task.executor_id;
  status.timestamp = wall_clock_seconds();
  status.uuid = new_uuid_bytes();
  record_update(framework_id, task, std::move(status));
}

void Agent::record_update(const std::string& framework_id, Task& task, mesos::TaskStatus status) {
  if (status.uuid) {
    if (!task.seen_uuids.insert(*status.uuid).second) {
      return;  // a replay of an update this agent already has
    }
    task.seen_order.push_back(*status.uuid);
    if (task.seen_order.size() > kMaxSeenUuids) {
      task.seen_uuids.erase(task.seen_order.front());
      task.seen_order.pop_front();
    }
  }
  if (task.pending.size() >= kMaxPendingUpdates) {
    log()->error("agent '{}': task '{}' has {} unacknowledged updates; dropping {}", config_.id,
                 task.info.task_id, task.pending.size(), mesos::to_string(status.state));
    return;
  }
  task.state = status.state;
  task.pending.push_back(std::move(status));
  master_.task_state_changed(config_.id, framework_id, task.info.task_id, task.state);
  if (task.pending.size() == 1) {
    forward_head(framework_id, task);
  }
}

void Agent::forward_head(const std::string& framework_id, Task& task) {
  task.last_sent = std::chrono::steady_clock::now();
  if (!master_.forward_status_update(config_.id, framework_id, task.pending.front(), task.state)) {
    task.pending.clear();  // the framework is gone
  }
}

std::optional<mesos::TaskState> Agent::acknowledge(const std::string& framework_id,
                                                   const std::string& task_id,
                                                   const std::string& uuid) {
  Task* task = find_task(framework_id, task_id);
  if (task == nullptr || task->pending.empty() || task->pending.front().uuid != uuid) {
    return std::nullopt;
  }
  mesos::TaskState acked = task->pending.front().state;
  task->pending.pop_front();
  if (!task->pending.empty()) {
    forward_head(framework_id, *task);
  } else if (mesos::is_terminal(acked)) {
    if (auto run = find_run(framework_id, task->executor_id)) {
      std::erase(run->task_ids, task_id);
    }
    tasks_.erase({framework_id, task_id});
  }
  return acked;
}

AgentReport Agent::report() const {
  AgentReport out;
  if (!running_) {
    return out;
  }
  // Executors that run, and tasks whose updates are not acknowledged yet
  // even when their executor has ended (the new master must know them to
  // forward those updates).
  std::map<ExecutorKey, AgentReport::Executor> grouped;
  auto entry = [&](const std::string& framework_id,
                   const mesos::ExecutorInfo& info) -> AgentReport::Executor* {
    auto framework = frameworks_.find(framework_id);
    if (framework == frameworks_.end()) {
      return nullptr;
    }
    auto [it, inserted] = grouped.try_emplace({framework_id, info.executor_id});
    if (inserted) {
      it->second.framework = framework->second;
      it->second.framework.id = framework_id;
      it->second.info = info;
    }
    return &it->second;
  };
  for (const auto& [key, run] : runs_) {
    if (run->state != ExecutorRun::State::kTerminated && !run->silent) {
      if (auto* executor = entry(run->framework_id, run->info)) {
        executor->running = true;
      }
    }
  }
  for (const auto& [key, task] : tasks_) {
    auto run = find_run(key.first, task.executor_id);
    const mesos::ExecutorInfo& info = run ? run->info : *task.info.executor;
    if (auto* executor = entry(key.first, info)) {
      executor->tasks.emplace_back(task.info, task.state);
    }
  }
  for (auto& [key, executor] : grouped) {
    out.executors.push_back(std::move(executor));
  }
  return out;
}

void Agent::master_changed() {
  if (!running_) {
    return;
  }
  // Collected first: forwarding may make the master change this agent's
  // tasks (a framework that is gone drops its updates).
  std::vector<TaskKey> pending;
  for (const auto& [key, task] : tasks_) {
    if (!task.pending.empty()) {
      pending.push_back(key);
    }
  }
  for (const auto& key : pending) {
    if (auto it = tasks_.find(key); it != tasks_.end() && !it->second.pending.empty()) {
      forward_head(key.first, it->second);
    }
  }
}

asio::awaitable<void> Agent::resend_loop(uint64_t generation) {
  asio::steady_timer timer(ex_);
  const auto retry = config_.status_update_retry_interval;
  const auto period = std::min<std::chrono::milliseconds>(retry, std::chrono::seconds(1));
  while (generation == generation_) {
    timer.expires_after(period);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec || generation != generation_) {
      co_return;
    }
    auto now = std::chrono::steady_clock::now();
    for (auto& [key, task] : tasks_) {
      if (!task.pending.empty() && now - task.last_sent >= retry) {
        log()->debug("agent '{}': resending {} for task '{}'", config_.id,
                     mesos::to_string(task.pending.front().state), key.second);
        forward_head(key.first, task);
      }
    }
  }
}

}  // namespace etcdmesos::devcluster
