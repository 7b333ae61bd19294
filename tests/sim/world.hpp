// A seeded simulation of everything around the scheduler core: a Mesos
// master with agents (offers, tasks, reliable status updates, agent loss,
// failover) and etcd clusters (membership, raft index and term, leader,
// the strict reconfiguration rules of etcd 3.4). The real SchedulerCore is
// driven with simulated time, and every member's executor is the real
// ExecutorCore (executor_side.cpp); the world answers its effects the way Mesos
// and etcd would (facts in shared/reference/*.md), and a list of invariants
// is checked after every step.
//
// A run has two phases: faults (random, from the seed), then liveness with
// faults off, in which the cluster must reach its desired size and health
// within a bound. Same seed, same run: every choice comes from one Rng.
//
// Not thread-safe; one World per run.
#pragma once

#include "core/executor_core.hpp"
#include "core/health.hpp"
#include "core/scheduler_core.hpp"
#include "sim_rng.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <vector>

namespace etcdmesos::sim {

using core::Millis;

// "a" + 7 -> "a7" (appending: GCC 12 at -O3 warns falsely on `"a" + to_string(n)`).
inline std::string numbered(const char* prefix, uint64_t n) {
  std::string out(prefix);
  out += std::to_string(n);
  return out;
}

struct SimOptions {
  uint64_t seed = 1;
  std::size_t cluster_size = 3;
  std::size_t agents = 0;  // 0: cluster_size + 2
  Millis fault_phase{120000};
  Millis liveness_bound{600000};
  bool faults = true;
  bool trace = false;
  bool pending_invariants = false;  // also those the core does not keep yet
  // Run the core with -zk-framework-persist against a simulated ZooKeeper
  // store: writes answered in order after a delay, some failing, and store
  // outages (connection loss, session expiry) during the fault phase; the
  // scheduler process dies now and then and a new core starts from what the
  // store holds (store_side.cpp), and Mesos removes the framework when no
  // scheduler came back within its failover timeout.
  bool persist = false;
};

// How often client writes land on a cluster with quorum (each one a
// committed, acknowledged entry).
inline constexpr std::chrono::milliseconds kClientWriteInterval{700};

struct Outcome {
  bool ok = true;
  std::string failure;        // the broken invariant or the liveness failure
  Millis converged_after{0};  // from the end of the fault phase
  uint64_t steps = 0;         // core steps and ticks
  uint64_t faults = 0;
  uint64_t unlocks = 0;   // operator unlocks the liveness phase needed
  uint64_t restores = 0;  // of them, restores from a snapshot (good or corrupt)
  uint64_t reseeds = 0;
  uint64_t restarts = 0;            // scheduler processes that died (persist mode)
  uint64_t frameworks_removed = 0;  // by Mesos, after the failover timeout
  std::vector<std::string> trace;   // only with SimOptions::trace
};

// The core configuration the simulator runs with: production rules, timers
// shortened so that a run covers many of them; the static bootstrap's
// window and etcd's join settle varied by seed.
core::Config sim_config(std::size_t cluster_size, uint64_t seed);

Outcome run_simulation(const SimOptions& options);

// ------------------------------------------------------------ world state

struct Agent {
  std::string id;
  std::string host;
  double cpus = 4;
  double mem_mb = 4096;
  double disk_mb = 20000;
  core::PortRange ports{31000, 31009};
  // kPartitioned: cut off from everyone; kMasterCut: only the master cannot
  // reach it (it removes the agent and reports its tasks unreachable) while its
  // members go on serving their peers and the scheduler.
  enum class State { kUp, kPartitioned, kCrashed, kMasterCut } state = State::kUp;
  // The master declared it unreachable (TASK_UNREACHABLE + FAILURE sent).
  bool removed = false;
  // Registered with the current master. A master with an in-memory registry
  // knows no agent after its election until each re-registers (0-10 s later,
  // or when it comes back); until then it makes no offers of it, forwards
  // none of its updates and answers TASK_UNKNOWN for its tasks.
  bool registered = true;
  // When it re-registered on coming back from an outage the master knew
  // nothing of: answers the master gave before may still be on their way.
  Millis back_unknown_at{-3600000};
  // The one test of "does the master reach this agent": offers, forwarded
  // status updates, acknowledgements, kills and framework messages.
  bool master_reaches() const { return state == State::kUp && registered; }
  Millis refuse_until{0};
  bool offered = false;  // an offer of it is outstanding
  uint64_t outage = 0;   // counts outages, to match delayed actions to one
};

// One reliable status update (through the agent's status update manager).
struct Update {
  std::string uuid;
  core::TaskState state = core::TaskState::kStaging;
  std::string reason;
  std::string message;
  std::optional<core::ReseedReport> report;  // an executor's reseed answer
};

struct Task {
  std::string id;
  std::string agent_id;
  std::string framework_id;  // the framework that launched it
  core::LaunchSpec spec;
  core::TaskState state = core::TaskState::kStaging;  // the agent's truth
  bool master_knows_lost = false;                     // agent declared unreachable
  std::deque<Update> pending;                         // head in flight until acked
  uint64_t retry_generation = 0;
  Millis retry_interval{10000};
  int process = -1;  // index into processes, once the executor started etcd
  // The task's executor (shared: Task is copied); empty once the executor
  // died with its agent or its framework.
  std::shared_ptr<core::ExecutorCore> executor;
};

struct Process {
  std::string task_id;
  std::string agent_id;
  std::string name;
  std::string peer_url;
  std::string client_url;
  int cluster = -1;  // index into clusters once joined
  uint64_t member_id = 0;
  // kStopped: stopped by a fence of its executor, the task running on and
  // the data kept (the executor core's fenced()).
  enum class State { kStarting, kRunning, kStopped, kExited } state = State::kStarting;
  uint64_t generation = 0;  // the executor core's, of the etcd process now or last
  // Crashes again at every restart (until the executor gives up).
  bool crash_loop = false;
  bool frozen = false;    // SIGSTOPped: answers nobody
  bool isolated = false;  // cut off from its peers, still answers the scheduler
  // The link between the scheduler and this member, apart from the links
  // between members (issue 9: a scheduler cut off from members that serve).
  // kRepliesLost: requests arrive and take effect, answers never come back.
  enum class SchedulerLink { kUp, kCut, kRepliesLost } link = SchedulerLink::kUp;
  bool was_connected = false;
  Millis connected_since{0};
  uint64_t raft_index = 0;
  uint64_t raft_term = 0;
  bool ready_reported = false;
};

struct Voter {
  uint64_t id = 0;
  std::string name;  // empty until started, but for a static bootstrap's members
  std::string peer_url;
  std::string client_url;  // empty until started
  int process = -1;
};

struct Cluster {
  std::string token;
  // Started with --initial-cluster-state new: the members launched with the
  // same token and initial cluster join it as they start (static bootstrap).
  bool bootstrap = false;
  std::string initial_cluster;
  std::vector<Voter> voters;
  uint64_t raft_index = 1;
  uint64_t term = 1;
  uint64_t leader = 0;
  // Processes that left this cluster with --force-new-cluster: a member that
  // reaches one of them is told it was removed, and exits.
  std::vector<int> forked_out;
  // The backend reached its quota (fault): writes are refused and etcd lists
  // a NOSPACE alarm on these members until the history is compacted, every
  // member defragmented and the alarms disarmed.
  std::vector<uint64_t> nospace;
  bool compacted = false;
  std::vector<uint64_t> defragmented;
};

class Invariant;

class World {
 public:
  explicit World(const SimOptions& options);
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  Outcome run();

  // Read-only views for invariants. core() is the current scheduler
  // process's core (a new one after every restart).
  const core::SchedulerCore& core() const { return *core_; }
  const core::Config& config() const { return core_->config(); }
  const std::string& stored_framework_id() const { return stored_framework_id_; }
  // The largest cluster size the core was ever asked to keep.
  std::size_t largest_size() const { return largest_size_; }
  // Persist mode: the store held this task's record at some time.
  bool ever_stored(const std::string& task_id) const { return ever_stored_.contains(task_id); }
  Millis now() const { return now_; }
  bool subscribed() const { return subscribed_; }
  // Persist mode: the scheduler process may write to the store: ZooKeeper
  // is reachable and the process leads in it (not between its session's
  // expiry and its next election).
  bool leads_in_zookeeper() const { return store_up_ && elected_; }
  bool elected() const { return elected_; }
  const std::vector<Cluster>& clusters() const { return clusters_; }
  const std::vector<Process>& processes() const { return processes_; }
  const Task* task(const std::string& task_id) const;
  const std::vector<Task>& tasks() const { return tasks_; }
  // How many times the task's etcd started with --force-new-cluster.
  uint64_t forced_starts(const std::string& task_id) const {
    auto it = forced_starts_.find(task_id);
    return it == forced_starts_.end() ? 0 : it->second;
  }
  // Mesos (the master) reports the task running: it has not ended on its
  // agent, the master has not declared it unreachable, and it has not lost
  // track of its agent.
  bool mesos_reports_running(const Task& t) const {
    return !core::means_member_lost(t.state) && !t.master_knows_lost &&
           !master_lost_track_of(t.agent_id);
  }
  // The master knows nothing of the agent and cannot learn more until it
  // comes back: it is down while not registered with this master (an
  // in-memory registry's failover), or came back so recently that an answer
  // given before (TASK_UNKNOWN) may still be on its way. A TASK_UNKNOWN about
  // its tasks is then as good as news of their loss; about an agent that is
  // up, it only means the agent has not re-registered yet.
  bool master_lost_track_of(const std::string& agent_id) const;
  // The process runs and talks to whoever can reach its host (running, not
  // frozen, agent not partitioned or crashed).
  bool alive(const Process& p) const;
  // The process answers the scheduler (alive, and the scheduler's link to it
  // is up).
  bool reachable(const Process& p) const;
  // The process takes requests from the scheduler (alive, link up or only
  // its replies lost).
  bool receives(const Process& p) const;
  // The process takes part in its cluster's raft (reachable, not isolated,
  // still a voter).
  bool connected(const Process& p) const;
  std::size_t connected_voters(const Cluster& c) const;
  bool has_quorum(const Cluster& c) const;
  const Process* process_at(const std::string& client_url) const;

 private:
  struct Scheduled {
    Millis at;
    uint64_t seq;
    std::function<void()> action;
    bool operator>(const Scheduled& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  struct FaultRates {
    Millis mean_interval{10000};
    double drop_update = 0;
    double duplicate_update = 0;
    double delay_update = 0;
    double drop_check = 0;
    double drop_change_answer = 0;
    double launch_failure = 0;
    double election_in_check = 0;
    double drop_status_answer = 0;  // one member's answer to a status query times out
  };

  // --- loop (world.cpp)
  core::Config core_config() const;
  void after(Millis delay, std::function<void()> action);
  void deliver(const core::Event& event);
  // An answer to the current scheduler process, delivered after `delay`
  // unless that process died meanwhile.
  void answer_later(Millis delay, core::Event answer);
  void tick_core();
  void perform(const std::vector<core::Effect>& effects);
  void check_after_step();
  void fail(const std::string& what);
  void trace(const std::string& line);
  bool tracing() const { return options_.trace; }
  void schedule_next_fault();
  void inject_fault();
  void operator_resize();
  // Issue 9's fault classes: the scheduler's links to some members cut (or
  // their replies lost) while the members still talk to each other; an
  // agent cut off from the master only; and a master failover while members
  // fail and the RUNNING update of a joining member is held back.
  void cut_scheduler_links();
  void compound_failover();
  void client_writes();
  void end_fault_phase();
  bool converged() const;
  void operator_steps();

  // --- Mesos side (mesos_side.cpp)
  void offer_round();
  void perform(const core::LaunchMember& e);
  void perform(const core::DeclineOffer& e);
  void perform(const core::ReviveOffers& e);
  void perform(const core::KillTask& e);
  void perform(const core::Acknowledge& e);
  void perform(const core::Reconcile& e);
  void executor_start(const std::string& task_id);
  void agent_update(const std::string& task_id, core::TaskState state, std::string reason,
                    std::string message, std::optional<core::ReseedReport> report = {});
  void send_head(const std::string& task_id);
  void deliver_update(const std::string& task_id, const Update& u, bool allow_faults);
  void master_update(const std::string& task_id, const std::string& agent_id, core::TaskState state,
                     std::string reason);
  void rescind_offers_of(Agent& agent);
  void agent_down(std::size_t index, Agent::State how, Millis duration);
  void agent_up(std::size_t index, uint64_t outage);
  // The agent registers with the current master, which learns what it runs;
  // its unacknowledged updates are sent again.
  void agent_registers(std::size_t index);
  // What the master answers for a task in a reconciliation (reference
  // §13.5, for a PARTITION_AWARE framework); `t` is null for a task it has
  // no record of.
  core::TaskState reconciled_state(const Task* t, const std::string& agent_id) const;
  void master_failover(Millis duration);
  // The new master is elected: agents it does not know re-register within
  // 10 s (those down then, when they come back).
  void master_elected();
  // Subscribes when a scheduler process runs, the master is up and no
  // subscription exists: with the framework ID the process knows, or as a
  // new framework.
  void resubscribe();
  void remove_framework(const std::string& framework_id);
  Agent* agent(const std::string& id);
  const Agent* agent(const std::string& id) const;
  Task* find_task(const std::string& task_id);
  std::vector<core::PortRange> free_ports(const Agent& a) const;

  // --- etcd side (etcd_side.cpp)
  void settle();
  void settle_once();
  void process_start(int pid, uint64_t generation, const std::string& cluster_state);
  // The etcd process ends by itself (status `code`) or by a signal; its
  // executor is told.
  void process_exit(int pid, int code, const std::string& why, bool signaled = false);
  void perform(const core::CheckHealth& e);
  void perform(const core::AddEtcdMember& e);
  void perform(const core::RemoveEtcdMember& e);
  void perform(const core::QueryMemberStatus& e);
  void perform(const core::ReseedOrder& e);
  // --- ZooKeeper store (store_side.cpp), with SimOptions::persist
  void perform(const core::PersistFrameworkId& e);
  void perform(const core::PersistClusterSize& e);
  void perform(const core::PersistTask& e);
  void perform(const core::ForgetTask& e);
  void perform(const core::ClearStore& e);
  void perform(const core::StopSubscribing& e);
  void perform(const core::ExitScheduler& e);
  void perform(const core::RecoverSpace& e);
  void perform(const core::TakeBackup& e);
  // The simulated executors ask for no certificate (no TLS here): an answer
  // to a request nobody sent is a failure.
  void perform(const core::IssueCertificate& e);
  void perform(const core::RefuseCertificate& e);
  void fill_backend();
  // The id of the RecoverSpace step sent and not yet answered (0: none).
  uint64_t space_step_in_flight_ = 0;
  uint64_t space_step_incarnation_ = 0;
  // Answers a write after the ones before it, ok unless the store is down
  // (or a random failure); `apply` changes the stored state on success.
  void store_write(std::function<core::Event(bool ok, const std::string& error)> answer,
                   std::function<void()> apply);
  void schedule_store_outage();
  void store_back();
  // Helpers of the invariants: what they see of an event (world.cpp).
  static std::vector<core::Event> as_told(const core::Event& event);
  // Scheduler restarts (persist mode): the process dies (every answer on
  // its way to it is void), its supervisor starts a new one after `away`,
  // which loads the store, feeds the core Recovered and subscribes.
  void schedule_scheduler_death();
  void scheduler_dies(const std::string& why, Millis away);
  void scheduler_starts();
  uint64_t restarted_core_seed() const;
  void framework_refused(const std::string& framework_id);
  void seed_restart(int pid, uint64_t generation);
  void restart_process(int pid, uint64_t generation);
  // --- executors (executor_side.cpp): the real ExecutorCore of each task,
  // its events queued and stepped one at a time as the shell does.
  void executor_event(const std::string& task_id, core::ExecutorEvent event);
  void executor_run(const std::string& task_id, std::vector<core::ExecutorEffect> effects);
  void executor_perform(const std::string& task_id, const std::vector<core::ExecutorEffect>& fx);
  void executor_perform(Task& t, const core::SpawnEtcd& e);
  void executor_perform(Task& t, const core::SignalEtcd& e);
  void executor_perform(Task& t, const core::AskEtcdStatus& e);
  void executor_perform(Task& t, const core::CopyData& e);
  void executor_perform(Task& t, const core::ReadCommitIndex& e);
  void executor_perform(Task& t, const core::SendUpdate& e);
  void executor_perform(Task& t, const core::ExitExecutor& e);
  void executor_perform(Task& t, const core::LogLine& e);
  void executor_perform(Task& t, const core::RequestCertificate& e);
  void executor_perform(Task& t, const core::RestoreSnapshot& e);
  void executor_stepped(const std::string& task_id);
  // The executor dies with its agent (or its framework): etcd with it.
  void executor_gone(Task& t);
  void elect(Cluster& c);
  core::StatusSample sample(const std::string& client_url) const;
  // The first listed member that takes the scheduler's requests.
  Process* via(const std::vector<std::string>& client_urls);
  std::vector<core::EtcdMember> member_list(const Cluster& c) const;
  bool connected_fully_since(const Cluster& c, const Process& via, Millis since) const;
  std::size_t connected_since_count(const Cluster& c, const Process& via, Millis since) const;
  std::optional<std::string> may_add(const Cluster& c, const Process& via) const;
  std::optional<std::string> may_remove(const Cluster& c, const Process& via, uint64_t id) const;
  void crash_process(int pid);
  void maybe_fault_bootstrap(const core::LaunchMember& e);
  Process* random_running_process();

  SimOptions options_;
  Rng rng_;
  std::unique_ptr<core::SchedulerCore> core_;
  FaultRates rates_;
  Millis now_{0};
  Millis fault_end_{0};
  bool faults_on_ = true;
  uint64_t seq_ = 0;
  std::priority_queue<Scheduled, std::vector<Scheduled>, std::greater<>> queue_;
  std::vector<std::unique_ptr<Invariant>> invariants_;
  Outcome outcome_;
  bool failed_ = false;

  // The scheduler process
  bool scheduler_up_ = true;
  uint64_t incarnation_ = 0;  // bumped when the process dies, to void answers to it
  std::string framework_id_;  // what it subscribes with ("" = register anew)

  // Mesos
  bool subscribed_ = false;
  bool master_up_ = true;
  uint64_t connection_ = 0;  // bumped on every failover, to void delayed deliveries
  uint64_t failovers_ = 0;   // to void the re-registrations after an earlier one
  // Which registry each new master has (half of them in-memory) and when
  // agents re-register with it: a stream of its own, so that the other
  // faults of a seed stay as they were.
  Rng registry_rng_;
  // Frameworks the master knows: removed ones refuse a subscription; one
  // without a subscribed scheduler is removed after the failover timeout
  // unless a subscription bumps its epoch first.
  struct Framework {
    bool removed = false;
    uint64_t away_epoch = 0;
  };
  std::map<std::string, Framework> frameworks_;
  uint64_t next_framework_ = 1;
  std::vector<Agent> agents_;
  std::vector<Task> tasks_;
  struct Offer {
    std::string id;
    std::string agent_id;
  };
  std::vector<Offer> offers_;
  uint64_t next_offer_ = 1;
  uint64_t next_uuid_ = 1;
  int agents_down_ = 0;
  // Until then TASK_RUNNING updates are held back at the agent (a master
  // failover reorders them behind later failures: issue 9, case 4).
  Millis hold_running_until_{0};
  // The seed's executor fails to copy its data aside (disk full) with this
  // probability: it reports a failure with its data untouched.
  double seed_copy_failure_ = 0;
  // A fault aimed at the first static bootstrap of the run has been drawn.
  bool bootstrap_fault_drawn_ = false;

  // ZooKeeper store (its own random stream: runs without --persist stay
  // exactly as they were)
  Rng store_rng_;
  // Operators' resizes (POST /cluster-size), drawn from a stream of their
  // own so that the other faults of a seed stay as they were.
  Rng resize_rng_;
  std::size_t largest_size_ = 0;  // the flag or any size an operator set
  std::optional<std::size_t> stored_cluster_size_;
  // Backups answer from their own random stream too.
  Rng backup_rng_;
  bool store_up_ = true;
  Millis store_busy_until_{0};
  // The current outage outlasted the session timeout: the session expired.
  bool session_expired_ = false;
  // A standby was elected while this process was away from ZooKeeper: the
  // next process starts at once (it is that standby).
  bool standby_waiting_ = false;
  // The scheduler process leads in ZooKeeper: false from its session's
  // expiry until it is elected again in a new session.
  bool elected_ = true;
  uint64_t store_outage_ = 0;  // counts outages, to match the session expiry to one
  // Writes of a dead process still in flight are applied in order until the
  // first one that is not (the connection closed): incarnations up to this
  // one apply nothing more.
  uint64_t store_cut_incarnation_ = 0;
  std::string stored_framework_id_;
  std::map<std::string, core::Member> stored_tasks_;
  std::set<std::string> ever_stored_;  // task ids

  // Executor events waiting for the one being stepped (executor_side.cpp).
  std::deque<std::pair<std::string, core::ExecutorEvent>> executor_events_;
  bool executor_stepping_ = false;

  // etcd
  std::vector<Process> processes_;
  std::vector<Cluster> clusters_;
  std::map<std::string, uint64_t> forced_starts_;  // task id -> forks
};

}  // namespace etcdmesos::sim
