// The members' executors: every task runs the real core::ExecutorCore, as
// etcd-mesos-executor does, and this file is its shell in the simulated
// world. Its effects act on the task's simulated etcd process (start it,
// start it with --force-new-cluster, signal it, ask it for its status, read
// its commit index) or go to the agent (status updates); what they produce
// comes back as events, queued and stepped one at a time in order, as
// executor/executor.cpp does. Nothing here decides what an executor does:
// restarts, reseed steps and reports are the core's.
#include "world.hpp"

namespace etcdmesos::sim {

namespace {

// Production values: the simulator exercises the executor as deployed.
core::ExecutorConfig executor_config() {
  return core::ExecutorConfig{};
}

}  // namespace

void World::executor_start(const std::string& task_id) {
  Task* t = find_task(task_id);
  Agent* a = t ? agent(t->agent_id) : nullptr;
  if (t == nullptr || a == nullptr || a->state == Agent::State::kCrashed ||
      t->state != core::TaskState::kStaging) {
    return;
  }
  if (faults_on_ && rng_.chance(rates_.launch_failure)) {
    agent_update(task_id, core::TaskState::kFailed, "REASON_CONTAINER_LAUNCH_FAILED",
                 "simulated launch failure");
    return;
  }
  Process p;
  p.task_id = task_id;
  p.agent_id = t->agent_id;
  p.name = t->spec.member.name;
  p.peer_url = t->spec.member.peer_url();
  p.client_url = t->spec.member.client_url();
  t->process = static_cast<int>(processes_.size());
  processes_.push_back(std::move(p));
  t->executor = std::make_shared<core::ExecutorCore>(executor_config());
  core::TaskLaunched launched{
      task_id, std::nullopt,
      core::TaskLaunched::Member{t->spec.member.name, t->spec.member.client_url(), false,
                                 !t->spec.restore_uri.empty()},
      ""};
  executor_event(task_id, std::move(launched));
}

void World::executor_event(const std::string& task_id, core::ExecutorEvent event) {
  executor_events_.emplace_back(task_id, std::move(event));
  if (!executor_stepping_) {
    executor_run(task_id, {});
  }
}

// Performs `effects` of the executor of `task_id`, then steps the executors
// with the events queued meanwhile until none is left.
void World::executor_run(const std::string& task_id, std::vector<core::ExecutorEffect> effects) {
  executor_stepping_ = true;
  std::string id = task_id;
  for (;;) {
    executor_perform(id, effects);
    executor_stepped(id);
    effects.clear();
    if (executor_events_.empty()) {
      break;
    }
    auto [next_id, event] = std::move(executor_events_.front());
    executor_events_.pop_front();
    id = next_id;
    if (Task* t = find_task(id); t != nullptr && t->executor) {
      ++outcome_.steps;
      effects = t->executor->step(event, now_);
    }
  }
  executor_stepping_ = false;
}

void World::executor_perform(const std::string& task_id,
                             const std::vector<core::ExecutorEffect>& effects) {
  for (const auto& effect : effects) {
    Task* t = find_task(task_id);
    if (t == nullptr || !t->executor) {
      return;
    }
    std::visit([&](const auto& e) { executor_perform(*t, e); }, effect);
  }
}

// After a step: the process mirrors a fence (stopped, data kept), and the
// executor is woken at its next deadline.
void World::executor_stepped(const std::string& task_id) {
  Task* t = find_task(task_id);
  if (t == nullptr || !t->executor || t->process < 0) {
    return;
  }
  Process& p = processes_[t->process];
  if (t->executor->fenced() && p.state == Process::State::kExited) {
    p.state = Process::State::kStopped;
  } else if (!t->executor->fenced() && p.state == Process::State::kStopped) {
    p.state = Process::State::kExited;
  }
  const auto deadline = t->executor->next_deadline();
  if (!deadline) {
    return;
  }
  std::weak_ptr<core::ExecutorCore> weak = t->executor;
  after(std::max(*deadline - now_, Millis(0)), [this, task_id, weak] {
    auto executor = weak.lock();
    const Task* task = find_task(task_id);
    if (!executor || task == nullptr || task->executor != executor || executor_stepping_) {
      return;
    }
    const auto due = executor->next_deadline();
    if (!due || *due > now_) {
      return;  // moved: woken for the new deadline
    }
    ++outcome_.steps;
    executor_run(task_id, executor->tick(now_));
  });
}

void World::executor_gone(Task& t) {
  t.executor.reset();
  if (t.process >= 0) {
    processes_[t.process].state = Process::State::kExited;
  }
}

void World::executor_perform(Task& t, const core::SpawnEtcd& e) {
  Process& p = processes_[t.process];
  p.generation = e.generation;
  p.state = Process::State::kStarting;
  p.ready_reported = false;
  p.was_connected = false;
  const int pid = t.process;
  const uint64_t generation = e.generation;
  if (e.force_new_cluster) {
    after(rng_.millis(1000, 3000), [this, pid, generation] { seed_restart(pid, generation); });
  } else if (generation == 1) {
    const std::string state = t.spec.cluster_state;
    after(rng_.millis(200, 2000),
          [this, pid, generation, state] { process_start(pid, generation, state); });
  } else {
    after(rng_.millis(100, 1500), [this, pid, generation] { restart_process(pid, generation); });
  }
}

void World::executor_perform(Task& t, const core::SignalEtcd& e) {
  Process& p = processes_[t.process];
  if (p.state != Process::State::kRunning && p.state != Process::State::kStarting) {
    return;
  }
  const int pid = t.process;
  if (e.kill) {
    process_exit(pid, 9, "SIGKILL", true);
    return;
  }
  if (p.frozen) {
    return;  // SIGTERM waits for SIGCONT; the executor's SIGKILL does not
  }
  const uint64_t generation = p.generation;
  after(rng_.millis(10, 300), [this, pid, generation] {
    const Process& q = processes_[pid];
    if (q.generation == generation &&
        (q.state == Process::State::kRunning || q.state == Process::State::kStarting)) {
      process_exit(pid, 15, "SIGTERM", true);
    }
  });
}

// The executor asks its own etcd (on its host, not through the scheduler's
// links); a frozen or stopped etcd does not answer within the timeout.
void World::executor_perform(Task& t, const core::AskEtcdStatus&) {
  const int pid = t.process;
  const std::string task_id = t.id;
  const Process& p = processes_[pid];
  const bool answers = p.state == Process::State::kRunning && !p.frozen;
  after(answers ? rng_.millis(5, 100) : Millis(1000), [this, pid, task_id] {
    const Process& q = processes_[pid];
    core::EtcdStatusAnswered answer;
    if (q.state == Process::State::kRunning && !q.frozen) {
      const bool led = q.cluster >= 0 && connected(q) && has_quorum(clusters_[q.cluster]);
      answer.status =
          core::EtcdStatusAnswered::Status{led ? clusters_[q.cluster].leader : 0, q.raft_index};
    }
    executor_event(task_id, answer);
  });
}

void World::executor_perform(Task& t, const core::CopyData& e) {
  const bool fits = !(faults_on_ && rng_.chance(seed_copy_failure_));
  if (!fits && tracing()) {
    trace("fault: " + processes_[t.process].name + " has no room to copy its data aside");
  }
  executor_event(t.id, core::DataCopied{e.reseed_id, fits,
                                        fits ? "etcd-data copied aside"
                                             : "not enough free space to copy the data "
                                               "directory aside"});
}

// The stopped etcd's WAL holds what it committed.
void World::executor_perform(Task& t, const core::ReadCommitIndex&) {
  executor_event(t.id, core::CommitIndexRead{processes_[t.process].raft_index, ""});
}

void World::executor_perform(Task& t, const core::SendUpdate& e) {
  if (e.task_id != t.id) {
    return;  // a second task refused: the simulated agent launches one per executor
  }
  std::optional<core::ReseedReport> report;
  if (e.reseed) {
    report = core::ReseedReport{t.id, e.reseed->order.reseed_id, e.reseed->order.action,
                                e.reseed->ok, e.message};
    report->data_untouched = e.reseed->data_untouched;
    report->raft_index = e.reseed->raft_index;
  }
  agent_update(t.id, e.state, "", e.message, std::move(report));
}

void World::executor_perform(Task& t, const core::ExitExecutor& e) {
  if (tracing()) {
    trace("executor of " + t.id + " exits (" + e.why + ")");
  }
}

void World::executor_perform(Task& t, const core::LogLine& e) {
  if (tracing()) {
    trace("executor of " + t.id + ": " + e.text);
  }
}

// etcdctl snapshot restore: a snapshot whose name says corrupt fails its
// checksum; any other restores (the member then starts as a new cluster).
void World::executor_perform(Task& t, const core::RestoreSnapshot&) {
  const bool corrupt = t.spec.restore_uri.find("corrupt") != std::string::npos;
  const std::string task_id = t.id;
  after(rng_.millis(100, 1500), [this, task_id, corrupt] {
    executor_event(task_id,
                   core::SnapshotRestored{!corrupt, corrupt ? "Error: expected sha256 [...], got "
                                                              "[...] (simulated corrupt snapshot)"
                                                            : "restored"});
  });
}

void World::executor_perform(Task& t, const core::RequestCertificate&) {
  fail("the executor of " + t.id + " asked for a certificate, but no simulated task uses TLS");
}

void World::perform(const core::IssueCertificate& e) {
  fail("the core issued a certificate nobody asked for (task " + e.task_id + ")");
}

void World::perform(const core::RefuseCertificate& e) {
  fail("the core refused a certificate request nobody sent (task " + e.task_id + ")");
}

}  // namespace etcdmesos::sim
