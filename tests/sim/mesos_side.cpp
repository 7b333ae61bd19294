// The simulated Mesos master and agents (shared/reference/mesos-v1-http-api.md):
// offers of free resources, launches, reliable status updates (retried until
// acknowledged, later ones held back until then, duplicated after agent
// re-registration), master-generated updates without uuid, agent loss and
// return, master failover (half of the new masters with an in-memory
// registry, which know no agent until it re-registers). The framework is
// PARTITION_AWARE (reference §8): the master reports TASK_UNREACHABLE,
// TASK_DROPPED, TASK_GONE and TASK_UNKNOWN, never TASK_LOST.
#include "invariants.hpp"
#include "world.hpp"

#include <algorithm>
#include <utility>

namespace etcdmesos::sim {

using namespace std::chrono_literals;

namespace {
constexpr Millis kAgentRemovalDelay = 3200ms;  // reference §13.7
constexpr Millis kMaxRetryInterval = 60000ms;  // Mesos: 10 min; shortened for the bound
// A master-generated update reaches the scheduler within this.
constexpr Millis kMasterUpdateDelay = 200ms;
// After a failover to an in-memory registry, an agent that is up
// re-registers within this of the new master's election (its backoff).
constexpr Millis kReregisterWithin = 10000ms;

bool terminal(core::TaskState s) {
  return core::means_member_lost(s) && s != core::TaskState::kUnreachable &&
         s != core::TaskState::kUnknown;
}
}  // namespace

Agent* World::agent(const std::string& id) {
  return const_cast<Agent*>(std::as_const(*this).agent(id));
}

const Agent* World::agent(const std::string& id) const {
  for (const auto& a : agents_) {
    if (a.id == id) {
      return &a;
    }
  }
  return nullptr;
}

bool World::master_lost_track_of(const std::string& agent_id) const {
  const Agent* a = agent(agent_id);
  return a == nullptr || (!a->registered && a->state != Agent::State::kUp) ||
         now_ - a->back_unknown_at <= kMasterUpdateDelay;
}

Task* World::find_task(const std::string& task_id) {
  for (auto& t : tasks_) {
    if (t.id == task_id) {
      return &t;
    }
  }
  return nullptr;
}

const Task* World::task(const std::string& task_id) const {
  for (const auto& t : tasks_) {
    if (t.id == task_id) {
      return &t;
    }
  }
  return nullptr;
}

std::vector<core::PortRange> World::free_ports(const Agent& a) const {
  std::vector<bool> used(a.ports.end - a.ports.begin + 1, false);
  for (const auto& t : tasks_) {
    if (t.agent_id != a.id || terminal(t.state)) {
      continue;
    }
    for (uint64_t port : {uint64_t{t.spec.member.peer_port}, uint64_t{t.spec.member.client_port}}) {
      if (port >= a.ports.begin && port <= a.ports.end) {
        used[port - a.ports.begin] = true;
      }
    }
  }
  std::vector<core::PortRange> ranges;
  for (uint64_t p = a.ports.begin; p <= a.ports.end; ++p) {
    if (used[p - a.ports.begin]) {
      continue;
    }
    if (!ranges.empty() && ranges.back().end + 1 == p) {
      ranges.back().end = p;
    } else {
      ranges.push_back(core::PortRange{p, p});
    }
  }
  return ranges;
}

void World::offer_round() {
  if (!subscribed_) {
    return;
  }
  core::OffersReceived event;
  for (auto& a : agents_) {
    if (!a.master_reaches() || a.offered || a.refuse_until > now_) {
      continue;
    }
    core::OfferView o;
    o.offer_id = numbered("o", next_offer_++);
    o.agent_id = a.id;
    o.hostname = a.host;
    o.cpus = a.cpus;
    o.mem_mb = a.mem_mb;
    o.disk_mb = a.disk_mb;
    for (const auto& t : tasks_) {
      if (t.agent_id == a.id && !terminal(t.state)) {
        o.cpus -= 1;
        o.mem_mb -= 256;
        o.disk_mb -= 1024;
      }
    }
    o.ports = free_ports(a);
    if (o.cpus <= 0 || o.mem_mb <= 0) {
      continue;
    }
    a.offered = true;
    offers_.push_back(Offer{o.offer_id, a.id});
    event.offers.push_back(std::move(o));
  }
  if (!event.offers.empty()) {
    deliver(event);
  }
}

void World::perform(const core::LaunchMember& e) {
  if (!subscribed_) {
    return;  // the call fails (403); the invariant reports it
  }
  const auto& m = e.spec.member;
  auto it = std::find_if(offers_.begin(), offers_.end(),
                         [&](const Offer& o) { return o.id == e.offer_id; });
  if (it == offers_.end() || it->agent_id != m.agent_id) {
    // Rescinded, declined or voided by a failover: the master drops the task
    // (TASK_DROPPED for a PARTITION_AWARE framework, TASK_LOST otherwise).
    master_update(m.task_id, m.agent_id, core::TaskState::kDropped, "REASON_INVALID_OFFERS");
    return;
  }
  offers_.erase(it);
  if (auto* a = agent(m.agent_id)) {
    a->offered = false;
  }
  Task t;
  t.id = m.task_id;
  t.agent_id = m.agent_id;
  t.framework_id = framework_id_;
  t.spec = e.spec;
  tasks_.push_back(std::move(t));
  const std::string task_id = m.task_id;
  after(rng_.millis(100, 800), [this, task_id] { executor_start(task_id); });
  maybe_fault_bootstrap(e);
}

// Now and then the first static bootstrap of a run loses a member while it
// forms: its agent crashes or is cut off, before or after the member
// started, so that a majority may or may not remain (issue 12).
void World::maybe_fault_bootstrap(const core::LaunchMember& e) {
  if (!faults_on_ || bootstrap_fault_drawn_ || e.spec.cluster_state != "new" ||
      e.spec.initial_cluster.find(',') == std::string::npos) {
    return;
  }
  bootstrap_fault_drawn_ = true;
  if (!rng_.chance(0.3)) {
    return;
  }
  const std::string agent_id = e.spec.member.agent_id;
  after(rng_.millis(0, 3000), [this, agent_id] {
    for (std::size_t i = 0; i < agents_.size(); ++i) {
      if (agents_[i].id == agent_id && agents_[i].state == Agent::State::kUp && agents_down_ < 2) {
        if (tracing()) {
          trace("fault: during the static bootstrap");
        }
        agent_down(i, rng_.chance(0.5) ? Agent::State::kCrashed : Agent::State::kPartitioned,
                   rng_.millis(1000, 90000));
      }
    }
  });
}

void World::agent_update(const std::string& task_id, core::TaskState state, std::string reason,
                         std::string message, std::optional<core::ReseedReport> report) {
  Task* t = find_task(task_id);
  if (t == nullptr) {
    return;
  }
  t->state = state;
  Update u;
  u.uuid = numbered("u", next_uuid_++);
  u.state = state;
  u.reason = std::move(reason);
  u.message = std::move(message);
  u.report = std::move(report);
  t->pending.push_back(std::move(u));
  if (t->pending.size() == 1) {
    send_head(task_id);
  }
}

// Sends the unacknowledged head update and arms its retry; later updates of
// the task wait until the head is acknowledged.
void World::send_head(const std::string& task_id) {
  Task* t = find_task(task_id);
  if (t == nullptr || t->pending.empty()) {
    return;
  }
  const uint64_t generation = ++t->retry_generation;
  const Update head = t->pending.front();
  after(rng_.millis(1, 50), [this, task_id, head] { deliver_update(task_id, head, true); });
  after(t->retry_interval, [this, task_id, generation] {
    Task* task = find_task(task_id);
    if (task == nullptr || task->retry_generation != generation) {
      return;
    }
    task->retry_interval = std::min(task->retry_interval * 2, kMaxRetryInterval);
    send_head(task_id);
  });
}

void World::deliver_update(const std::string& task_id, const Update& u, bool allow_faults) {
  Task* t = find_task(task_id);
  Agent* a = t ? agent(t->agent_id) : nullptr;
  if (t == nullptr || a == nullptr || !a->master_reaches() || !subscribed_ ||
      t->framework_id != framework_id_) {
    // The retry timer sends it again, and so does the agent's registration
    // with a new master (a removed framework's are gone).
    return;
  }
  if (t->pending.empty() || t->pending.front().uuid != u.uuid) {
    return;  // acknowledged meanwhile
  }
  if (u.state == core::TaskState::kRunning && now_ < hold_running_until_) {
    after(hold_running_until_ - now_ + rng_.millis(1, 200),
          [this, task_id, u] { deliver_update(task_id, u, false); });
    return;
  }
  if (allow_faults && faults_on_) {
    if (rng_.chance(rates_.drop_update)) {
      if (tracing()) {
        trace("fault: update " + u.uuid + " of " + task_id + " lost");
      }
      return;
    }
    if (rng_.chance(rates_.delay_update)) {
      after(rng_.millis(500, 5000), [this, task_id, u] { deliver_update(task_id, u, false); });
      return;
    }
    if (rng_.chance(rates_.duplicate_update)) {
      after(rng_.millis(0, 100), [this, task_id, u] { deliver_update(task_id, u, false); });
    }
  }
  core::StatusUpdate update{task_id, t->agent_id, u.state, u.uuid, u.message, u.reason, {}};
  // The executor's answer, as the scheduler's shell decodes it from the
  // update's labels (codec/reseed.hpp, tested on its own).
  update.reseed = u.report;
  deliver(update);
}

void World::master_update(const std::string& task_id, const std::string& agent_id,
                          core::TaskState state, std::string reason) {
  const uint64_t connection = connection_;
  after(rng_.millis(1, kMasterUpdateDelay.count()),
        [this, task_id, agent_id, state, reason, connection] {
          const Task* t = task(task_id);
          if (subscribed_ && connection == connection_ &&
              (t == nullptr || t->framework_id == framework_id_)) {
            deliver(core::StatusUpdate{task_id, agent_id, state, std::nullopt, "", reason, {}});
          }
        });
}

void World::perform(const core::DeclineOffer& e) {
  auto it = std::find_if(offers_.begin(), offers_.end(),
                         [&](const Offer& o) { return o.id == e.offer_id; });
  if (it == offers_.end()) {
    return;
  }
  if (auto* a = agent(it->agent_id)) {
    a->offered = false;
    a->refuse_until = now_ + Millis{static_cast<int64_t>(e.refuse_seconds * 1000)};
  }
  offers_.erase(it);
}

// REVIVE: the master drops the framework's refuse filters; every agent is
// offered again in the next round.
void World::perform(const core::ReviveOffers&) {
  if (!subscribed_) {
    return;
  }
  for (auto& a : agents_) {
    a.refuse_until = Millis{0};
  }
}

void World::perform(const core::KillTask& e) {
  Task* t = find_task(e.task_id);
  if (!subscribed_ || t == nullptr || terminal(t->state) || t->framework_id != framework_id_) {
    return;
  }
  Agent* a = agent(t->agent_id);
  if (a == nullptr || !a->master_reaches()) {
    return;  // the master cannot reach the agent; the task shows up again later
  }
  const std::string task_id = e.task_id;
  after(rng_.millis(50, 500), [this, task_id] {
    Task* task = find_task(task_id);
    if (task == nullptr || terminal(task->state)) {
      return;
    }
    if (task->executor) {
      // The agent's KILL: the executor stops etcd and reports TASK_KILLED.
      executor_event(task_id, core::KillRequested{task_id, std::nullopt});
      return;
    }
    agent_update(task_id, core::TaskState::kKilled, "REASON_TASK_KILLED", "killed");
  });
}

void World::perform(const core::Acknowledge& e) {
  if (!subscribed_) {
    return;
  }
  const std::string task_id = e.task_id;
  const std::string uuid = e.uuid;
  after(rng_.millis(1, 30), [this, task_id, uuid] {
    Task* t = find_task(task_id);
    Agent* a = t ? agent(t->agent_id) : nullptr;
    if (t == nullptr || a == nullptr || !a->master_reaches() || t->pending.empty() ||
        t->pending.front().uuid != uuid) {
      return;
    }
    t->pending.pop_front();
    t->retry_interval = 10000ms;
    ++t->retry_generation;
    send_head(task_id);
  });
}

// Answers without uuid and with REASON_RECONCILIATION (reference §6, §13):
// explicit requests get every named task (reconciled_state); implicit ones
// only the active tasks the master knows: unreachable and finished tasks,
// and those of agents not registered with it, are not reported.
void World::perform(const core::Reconcile& e) {
  if (!subscribed_) {
    return;
  }
  if (e.tasks.empty()) {
    for (const auto& t : tasks_) {
      const Agent* a = agent(t.agent_id);
      if (!terminal(t.state) && !t.master_knows_lost && t.framework_id == framework_id_ &&
          a != nullptr && a->registered) {
        master_update(t.id, t.agent_id, t.state, "REASON_RECONCILIATION");
      }
    }
    return;
  }
  for (const auto& [task_id, agent_id] : e.tasks) {
    const Task* t = task(task_id);
    if (t != nullptr && t->framework_id != framework_id_) {
      t = nullptr;  // another framework's: this one has no such task
    }
    master_update(task_id, t != nullptr ? t->agent_id : agent_id, reconciled_state(t, agent_id),
                  "REASON_RECONCILIATION");
  }
}

// Reference §13.5, each state as a PARTITION_AWARE framework sees it: an
// agent the master does not know (an in-memory registry before the agent
// re-registered) gives TASK_UNKNOWN, an unreachable one TASK_UNREACHABLE; a
// task the master has no record of on a registered agent, or a finished one
// whose last update was acknowledged, TASK_GONE.
core::TaskState World::reconciled_state(const Task* t, const std::string& agent_id) const {
  const Agent* a = agent(t != nullptr ? t->agent_id : agent_id);
  if (a == nullptr || !a->registered) {
    return core::TaskState::kUnknown;
  }
  if (t == nullptr) {
    return a->removed ? core::TaskState::kUnreachable : core::TaskState::kGone;
  }
  if (t->master_knows_lost) {
    return core::TaskState::kUnreachable;
  }
  if (terminal(t->state) && t->pending.empty()) {
    return core::TaskState::kGone;
  }
  return t->state;
}

void World::rescind_offers_of(Agent& a) {
  a.offered = false;
  std::vector<std::string> rescinded;
  std::erase_if(offers_, [&](const Offer& o) {
    if (o.agent_id == a.id) {
      rescinded.push_back(o.id);
      return true;
    }
    return false;
  });
  for (const auto& id : rescinded) {
    deliver(core::OfferRescinded{id});
  }
}

// Partition: processes keep running, unreachable. Crash: they die with the
// agent; its executors are gone when it comes back.
void World::agent_down(std::size_t index, Agent::State how, Millis duration) {
  Agent& a = agents_[index];
  const bool crash = how == Agent::State::kCrashed;
  a.state = how;
  const uint64_t outage = ++a.outage;
  ++agents_down_;
  if (tracing()) {
    trace("fault: agent " + a.id +
          (crash                               ? " crashes"
           : how == Agent::State::kPartitioned ? " partitioned"
                                               : " cut off from the master only") +
          " for " + core::describe_duration(duration));
  }
  if (crash) {
    for (auto& t : tasks_) {
      if (t.agent_id == a.id && !terminal(t.state)) {
        executor_gone(t);
        agent_update(t.id, core::TaskState::kFailed, "REASON_EXECUTOR_TERMINATED",
                     "the agent restarted");
      }
    }
  }
  if (subscribed_) {
    rescind_offers_of(a);
  } else {
    a.offered = false;
  }
  after(kAgentRemovalDelay, [this, index, outage] {
    Agent& down = agents_[index];
    if (down.outage != outage || down.state == Agent::State::kUp || !down.registered) {
      return;  // back, or unknown to this master: nothing to mark unreachable
    }
    down.removed = true;
    for (auto& t : tasks_) {
      if (t.agent_id == down.id && !t.master_knows_lost) {
        t.master_knows_lost = true;
        master_update(t.id, t.agent_id, core::TaskState::kUnreachable, "REASON_AGENT_REMOVED");
      }
    }
    const std::string id = down.id;
    const uint64_t connection = connection_;
    after(rng_.millis(200, 400), [this, id, connection] {
      if (subscribed_ && connection == connection_) {
        deliver(core::AgentLost{id});
      }
    });
  });
  after(duration, [this, index, outage] { agent_up(index, outage); });
}

void World::agent_up(std::size_t index, uint64_t outage) {
  Agent& a = agents_[index];
  if (a.outage != outage || a.state == Agent::State::kUp) {
    return;
  }
  if (tracing()) {
    trace("agent " + a.id + " is back");
  }
  a.state = Agent::State::kUp;
  a.removed = false;
  --agents_down_;
  if (a.registered) {
    agent_registers(index);  // again, after the master had lost its link
  } else if (master_up_) {
    // The master knew nothing of it while it was away.
    a.back_unknown_at = now_;
    agent_registers(index);
  }
  // Else no master is elected yet: the election has it re-register.
}

void World::agent_registers(std::size_t index) {
  Agent& a = agents_[index];
  if (tracing() && !a.registered) {
    trace("agent " + a.id + " re-registers with the new master");
  }
  a.registered = true;
  for (auto& t : tasks_) {
    if (t.agent_id != a.id) {
      continue;
    }
    if (t.master_knows_lost && !terminal(t.state)) {
      // Re-registration: the master reports what the agent still runs.
      master_update(t.id, t.agent_id, t.state, "REASON_AGENT_REREGISTERED");
    }
    t.master_knows_lost = false;
    if (!t.pending.empty()) {
      t.retry_interval = 10000ms;
      send_head(t.id);
    }
  }
}

void World::master_failover(Millis duration) {
  // Real Mesos with --registry=in_memory: the new leader has no record of
  // any agent, nor of which ones were unreachable, until they re-register.
  const bool in_memory = registry_rng_.chance(0.5);
  if (tracing()) {
    trace("fault: master fails over; back in " + core::describe_duration(duration) +
          (in_memory ? " with an in-memory registry" : ""));
  }
  subscribed_ = false;
  master_up_ = false;
  ++connection_;
  ++failovers_;
  offers_.clear();
  for (auto& a : agents_) {
    a.offered = false;
    a.refuse_until = Millis{0};  // filters do not survive a disconnection
    if (in_memory) {
      a.registered = false;
      a.removed = false;
    }
  }
  if (in_memory) {
    for (auto& t : tasks_) {
      t.master_knows_lost = false;
    }
  }
  deliver(core::Disconnected{});
  after(duration, [this] {
    master_elected();
    resubscribe();
  });
}

void World::master_elected() {
  if (master_up_) {
    return;  // the end of the fault phase elected it already
  }
  master_up_ = true;
  const uint64_t failover = failovers_;
  for (std::size_t i = 0; i < agents_.size(); ++i) {
    if (agents_[i].registered) {
      continue;
    }
    after(registry_rng_.millis(0, kReregisterWithin.count()), [this, i, failover] {
      // Down by then: it re-registers when it comes back (agent_up).
      if (failover == failovers_ && agents_[i].state == Agent::State::kUp &&
          !agents_[i].registered) {
        agent_registers(i);
      }
    });
  }
}

void World::resubscribe() {
  if (subscribed_ || !master_up_ || !scheduler_up_) {
    return;
  }
  if (!core_->may_subscribe(now_)) {
    // As the shell: no attempt now; it tries again (ZooKeeper's return
    // calls this too).
    after(1000ms, [this, incarnation = incarnation_] {
      if (incarnation == incarnation_) {
        resubscribe();
      }
    });
    return;
  }
  if (!framework_id_.empty() && frameworks_[framework_id_].removed) {
    framework_refused(framework_id_);
    return;
  }
  if (framework_id_.empty()) {
    // Registration: the master assigns a new framework ID.
    framework_id_ =
        next_framework_ == 1 ? std::string("fw-sim") : numbered("fw-sim-", next_framework_);
    ++next_framework_;
  }
  subscribed_ = true;
  ++connection_;
  ++frameworks_[framework_id_].away_epoch;  // a scheduler is back: no removal
  deliver(core::Subscribed{framework_id_});
  // Agents retry their unacknowledged updates on the new connection.
  for (auto& t : tasks_) {
    if (!t.pending.empty() && t.framework_id == framework_id_) {
      send_head(t.id);
    }
  }
}

// The failover timeout passed without a scheduler (reference §13): the
// master kills every task of the framework and forgets it; its status
// updates are never delivered, and a subscription with its ID is refused.
void World::remove_framework(const std::string& framework_id) {
  frameworks_[framework_id].removed = true;
  ++outcome_.frameworks_removed;
  if (tracing()) {
    trace("Mesos removes framework " + framework_id + " (failover timeout): its tasks are killed");
  }
  for (auto& t : tasks_) {
    if (t.framework_id != framework_id || terminal(t.state)) {
      continue;
    }
    executor_gone(t);
    t.state = core::TaskState::kKilled;
    t.pending.clear();
    ++t.retry_generation;
  }
  for (auto& inv : invariants_) {
    inv->on_framework_removed(*this);
  }
}

}  // namespace etcdmesos::sim
