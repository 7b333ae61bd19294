// Master: the task model — status updates from agents, acknowledgements,
// reconciliation, kills, executor and agent loss.
#include "master.hpp"

#include "common/log.hpp"
#include "util.hpp"

#include <algorithm>

namespace etcdmesos::devcluster {

namespace {

auto log() {
  return etcdmesos::logger("master");
}

mesos::Event update_event(mesos::TaskStatus status) {
  mesos::Event event = mesos::EventUpdate{std::move(status)};
  return event;
}

}  // namespace

mesos::TaskState Master::for_framework(const Framework& framework, mesos::TaskState state) const {
  using S = mesos::TaskState;
  if (framework.partition_aware()) {
    return state;
  }
  switch (state) {
    case S::kDropped:
    case S::kUnreachable:
    case S::kGone:
    case S::kGoneByOperator:
    case S::kUnknown:
      return S::kLost;  // reference §8: the older frameworks only know TASK_LOST
    default:
      return state;
  }
}

mesos::TaskStatus Master::master_status(const Framework& framework, const Task& task,
                                        mesos::TaskState state, std::string reason,
                                        std::string message) const {
  mesos::TaskStatus status;
  status.task_id = task.info.task_id;
  status.state = for_framework(framework, state);
  status.source = "SOURCE_MASTER";
  status.reason = std::move(reason);
  status.message = std::move(message);
  status.agent_id = task.agent_id;
  status.executor_id = task.executor_id;
  status.timestamp = wall_clock_seconds();
  return status;
}

// ------------------------------------------------------------ agent reports

bool Master::forward_status_update(const std::string& agent_id, const std::string& framework_id,
                                   const mesos::TaskStatus& status, mesos::TaskState latest_state) {
  Framework* framework = find_framework(framework_id);
  if (framework == nullptr) {
    return false;
  }
  if (auto it = framework->tasks.find(status.task_id); it != framework->tasks.end()) {
    Task& task = it->second;
    bool was_terminal = mesos::is_terminal(task.state);
    task.state = latest_state;
    task.status_update_state = status.state;
    task.last_status = status;
    bool seen = std::any_of(task.statuses.begin(), task.statuses.end(),
                            [&](const mesos::TaskStatus& s) { return s.uuid == status.uuid; });
    if (!seen) {
      task.statuses.push_back(status);
      if (task.statuses.size() > kMaxStatusesPerTask) {
        task.statuses.erase(task.statuses.begin());
      }
    }
    if (!was_terminal && mesos::is_terminal(latest_state)) {
      allocate_soon();
    }
  }
  log()->debug("update {} for task '{}' of framework '{}' from agent '{}'",
               mesos::to_string(status.state), status.task_id, framework_id, agent_id);
  send(*framework, update_event(status));
  return true;
}

void Master::task_state_changed(const std::string& /*agent_id*/, const std::string& framework_id,
                                const std::string& task_id, mesos::TaskState latest_state) {
  Framework* framework = find_framework(framework_id);
  if (framework == nullptr) {
    return;
  }
  auto it = framework->tasks.find(task_id);
  if (it == framework->tasks.end()) {
    return;
  }
  bool was_terminal = mesos::is_terminal(it->second.state);
  it->second.state = latest_state;
  if (!was_terminal && mesos::is_terminal(latest_state)) {
    allocate_soon();  // the task's resources are free now
  }
}

void Master::executor_terminated(const std::string& agent_id, const std::string& framework_id,
                                 const std::string& executor_id, int wait_status) {
  Framework* framework = find_framework(framework_id);
  if (framework == nullptr) {
    return;
  }
  framework->executors.erase({agent_id, executor_id});
  mesos::Event event = mesos::EventFailure{agent_id, executor_id, wait_status};
  send(*framework, event);
  allocate_soon();
}

void Master::executor_message(const std::string& agent_id, const std::string& framework_id,
                              const std::string& executor_id, std::string data) {
  Framework* framework = find_framework(framework_id);
  if (framework == nullptr) {
    return;
  }
  mesos::Event event = mesos::EventMessage{agent_id, executor_id, std::move(data)};
  send(*framework, event);
}

// ------------------------------------------------------------ scheduler calls

void Master::acknowledge(Framework& framework, const mesos::CallAcknowledge& call) {
  AgentRecord* record = find_agent(call.agent_id);
  if (record == nullptr || !record->agent->running()) {
    return;  // Mesos drops acknowledgements for agents it cannot reach (still 202)
  }
  auto acked = record->agent->acknowledge(framework.id, call.task_id, call.uuid);
  if (acked && mesos::is_terminal(*acked)) {
    complete_task(framework, call.task_id);
  }
}

void Master::complete_task(Framework& framework, const std::string& task_id) {
  auto it = framework.tasks.find(task_id);
  if (it == framework.tasks.end()) {
    return;
  }
  framework.completed_tasks.push_back(std::move(it->second));
  framework.tasks.erase(it);
  if (framework.completed_tasks.size() > kMaxCompletedTasks) {
    framework.completed_tasks.pop_front();
  }
}

mesos::TaskStatus Master::reconcile_status(const Framework& framework, const std::string& task_id,
                                           const std::optional<std::string>& agent_id) const {
  using S = mesos::TaskState;
  mesos::TaskStatus status;
  status.task_id = task_id;
  status.source = "SOURCE_MASTER";
  status.reason = "REASON_RECONCILIATION";
  status.agent_id = agent_id;
  status.timestamp = wall_clock_seconds();
  if (auto it = framework.tasks.find(task_id); it != framework.tasks.end()) {
    const Task& task = it->second;
    // The state last sent to the scheduler, so that reconciliation never
    // overtakes updates still held back for acknowledgement.
    status.state = task.status_update_state.value_or(task.state);
    status.message = "Reconciliation: Latest task state";
    status.agent_id = task.agent_id;
    status.executor_id = task.executor_id;
    if (task.last_status) {
      status.healthy = task.last_status->healthy;
      status.container_ip = task.last_status->container_ip;
    }
    return status;
  }
  auto unreachable = framework.unreachable_tasks.find(task_id);
  const AgentRecord* record = agent_id ? find_agent(*agent_id) : nullptr;
  if (unreachable != framework.unreachable_tasks.end() || (record && record->removed)) {
    status.state = for_framework(framework, S::kUnreachable);
    status.message = "Reconciliation: Task is unreachable";
    if (unreachable != framework.unreachable_tasks.end()) {
      status.agent_id = unreachable->second.agent_id;
    }
  } else if (record != nullptr) {
    status.state = for_framework(framework, S::kGone);
    status.message = "Reconciliation: Task is unknown to the agent";
  } else {
    status.state = for_framework(framework, S::kUnknown);
    status.message = "Reconciliation: Task is unknown";
  }
  return status;
}

void Master::reconcile(Framework& framework, const mesos::CallReconcile& call) {
  if (call.tasks.empty()) {
    // Implicit: every task the master knows; unreachable and completed
    // tasks are not reported (reference §6).
    std::vector<mesos::TaskStatus> answers;
    for (const auto& [task_id, task] : framework.tasks) {
      answers.push_back(reconcile_status(framework, task_id, task.agent_id));
    }
    for (auto& status : answers) {
      send(framework, update_event(std::move(status)));
    }
    return;
  }
  for (const auto& wanted : call.tasks) {
    send(framework, update_event(reconcile_status(framework, wanted.task_id, wanted.agent_id)));
  }
}

void Master::kill(Framework& framework, const mesos::CallKill& call) {
  auto it = framework.tasks.find(call.task_id);
  if (it == framework.tasks.end() || mesos::is_terminal(it->second.state)) {
    // Unknown or finished: answered like reconciliation (reference §6).
    send(framework, update_event(reconcile_status(framework, call.task_id, call.agent_id)));
    return;
  }
  AgentRecord* record = find_agent(it->second.agent_id);
  if (record != nullptr && record->agent->running()) {
    record->agent->kill_task(framework.id, call.task_id, call.grace_period_ns);
  }
}

// ------------------------------------------------------------ agent loss

void Master::agent_stopped(const std::string& agent_id) {
  AgentRecord* record = find_agent(agent_id);
  if (record == nullptr || !record->active) {
    return;
  }
  log()->info("agent '{}' lost; removal in {} ms", agent_id, options_.agent_removal_delay.count());
  record->active = false;
  rescind_offers_of_agent(agent_id);
  record->removal_timer = std::make_unique<boost::asio::steady_timer>(ex_);
  auto* timer = record->removal_timer.get();
  timer->expires_after(options_.agent_removal_delay);
  timer->async_wait([this, agent_id, timer](boost::system::error_code ec) {
    AgentRecord* r = find_agent(agent_id);
    if (ec || r == nullptr || r->removal_timer.get() != timer || r->removed) {
      return;
    }
    remove_agent(agent_id);
  });
}

void Master::remove_agent(const std::string& agent_id) {
  AgentRecord* record = find_agent(agent_id);
  record->removed = true;
  record->active = false;
  log()->info("agent '{}' removed: health check timed out", agent_id);
  for (auto& [framework_id, framework] : frameworks_) {
    std::vector<std::string> on_agent;
    for (const auto& [task_id, task] : framework->tasks) {
      if (task.agent_id == agent_id) {
        on_agent.push_back(task_id);
      }
    }
    for (const auto& task_id : on_agent) {
      Task& task = framework->tasks.at(task_id);
      if (mesos::is_terminal(task.state)) {
        complete_task(*framework, task_id);
        continue;
      }
      auto status = master_status(*framework, task, mesos::TaskState::kUnreachable,
                                  "REASON_AGENT_REMOVED", "health check timed out");
      task.state = status.state;
      task.status_update_state = status.state;
      send(*framework, update_event(std::move(status)));
      if (!framework->partition_aware()) {
        framework->completed_tasks.push_back(task);
      }
      framework->unreachable_tasks[task_id] = std::move(task);
      framework->tasks.erase(task_id);
    }
    std::erase_if(framework->executors,
                  [&](const auto& entry) { return entry.first.first == agent_id; });
    while (framework->completed_tasks.size() > kMaxCompletedTasks) {
      framework->completed_tasks.pop_front();
    }
  }
  for (auto& [framework_id, framework] : frameworks_) {
    mesos::Event event = mesos::EventFailure{agent_id, std::nullopt, std::nullopt};
    send(*framework, event);
  }
}

void Master::agent_started(const std::string& agent_id) {
  AgentRecord* record = find_agent(agent_id);
  if (record == nullptr || record->active) {
    return;
  }
  if (!record->removed) {
    // Back before its removal was due: the lost executors are reported as
    // for a removed agent, then the re-registration below.
    remove_agent(agent_id);
  }
  record->removal_timer.reset();
  for (auto& [framework_id, framework] : frameworks_) {
    std::vector<std::string> returning;
    for (const auto& [task_id, task] : framework->unreachable_tasks) {
      if (task.agent_id == agent_id) {
        returning.push_back(task_id);
      }
    }
    for (const auto& task_id : returning) {
      Task task = std::move(framework->unreachable_tasks.at(task_id));
      framework->unreachable_tasks.erase(task_id);
      // The executors died with the host: as observed when an agent comes
      // back without them (reference §13.7).
      auto status = master_status(*framework, task, mesos::TaskState::kFailed,
                                  "REASON_AGENT_REREGISTERED", "Unreachable agent re-reregistered");
      send(*framework, update_event(status));
      if (framework->partition_aware()) {
        task.state = mesos::TaskState::kFailed;
        framework->completed_tasks.push_back(std::move(task));
      }
    }
  }
  record->removed = false;
  record->active = true;
  record->reregistered_time = wall_clock_seconds();
  log()->info("agent '{}' re-registered", agent_id);
  allocate_soon();
}

}  // namespace etcdmesos::devcluster
