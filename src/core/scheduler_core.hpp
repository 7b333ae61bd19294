// The scheduler's decision logic as a pure state machine (in the manner of
// etcd's raft RawNode): the shell feeds it events and clock ticks, and it
// returns effects for the shell to perform; outcomes come back as events.
//
// No sockets, clocks, threads or I/O headers here: time is passed in as a
// monotonic `Millis` value, randomness as a seed. Same inputs, same outputs.
//
// Decisions are level-based: each step compares the desired cluster with the
// last observed one and starts at most one membership change.
#pragma once

#include "core/ack_ledger.hpp"
#include "core/check_schedule.hpp"
#include "core/cluster_plan.hpp"
#include "core/offer_match.hpp"
#include "core/reconciliation.hpp"
#include "core/rng.hpp"
#include "core/types.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace etcdmesos::core {

// Lifecycle: construct once per scheduler process with its Config and a seed;
// feed every event through step() and call tick() periodically (about once a
// second). Not thread-safe: the shell calls it from its single event loop.
// Never throws on anything a peer sends; unknown or stale answers are ignored.
class SchedulerCore {
 public:
  SchedulerCore(Config config, uint64_t seed);

  // Feeds one event observed at `now`; returns what to do.
  std::vector<Effect> step(const Event& event, Millis now);
  // Advances time: timeouts, due health checks.
  std::vector<Effect> tick(Millis now);

  const std::vector<Member>& members() const { return members_; }
  const Stats& stats() const { return stats_; }
  // Cumulative counts for the metrics (types.hpp); never reset.
  const Counters& counters() const { return counters_; }
  ReconcilePhase reconcile_phase() const { return reconcile_.phase(); }
  const std::optional<HealthResult>& last_health() const { return last_health_; }
  bool subscribed() const { return subscribed_; }
  const Config& config() const { return config_; }

  // Locked: nothing automatic happens any more and lock_reason() says what
  // the operator must do. Either every member that held the cluster's data
  // is gone (total_loss(): nothing is launched until POST /unlock), or every
  // seed candidate of a reseed failed and was kept (reseed_halted(): no
  // automatic reseed until an operator's POST /reseed).
  bool locked() const { return locked_ || reseed_halt_.has_value(); }
  bool total_loss() const { return locked_; }
  bool reseed_halted() const { return reseed_halt_.has_value(); }
  const std::string& lock_reason() const { return locked_ ? lock_reason_ : reseed_halt_text(); }
  // The last judged check found no majority among the members the scheduler
  // reaches, but the evidence disagrees with a lost majority: the cluster
  // committed (partition_commits()), or members that do not answer are
  // reported running by Mesos (silent members). Nothing is reseeded or
  // killed for it; docs/incident-response.md ("Partitions") has the rule.
  bool partitioned() const { return partition_.has_value(); }
  std::string partition_reason() const { return partition_ ? partition_->reason : ""; }
  bool partition_commits() const { return partition_ && partition_->commits; }
  // Members Mesos reports running that did not answer the last health check
  // (names): those a reseed with skip_silent would go without.
  std::vector<std::string> silent_members() const;
  // The last judged health check found no working majority and no check has
  // shown one since (see reseed_plan.hpp); when that began, and why.
  bool livelocked() const { return livelock_since_.has_value(); }
  std::optional<Millis> livelock_since() const { return livelock_since_; }
  const std::string& livelock_reason() const { return livelock_reason_; }
  // When an automatic reseed will start if the livelock lasts; nullopt when
  // none is due (not livelocked, auto-reseed off, or a reseed is under way).
  std::optional<Millis> auto_reseed_at() const;
  // A reseed is under way; reseed_status() says which step it is at.
  bool reseeding() const { return reseed_.has_value(); }
  std::string reseed_status() const;
  // How the last reseed ended ("" before the first).
  const std::string& last_reseed_outcome() const { return last_reseed_outcome_; }
  // Why OperatorReseed / OperatorUnlock would be ignored now; nullopt when it
  // would be acted upon. The shell asks before feeding the event, to answer
  // the operator.
  std::optional<std::string> why_not_reseed(bool skip_silent = false) const;
  std::optional<std::string> why_not_unlock() const;
  // Why OperatorResize to `size` would be refused now; nullopt when it would
  // be taken (scheduler_core_resize.cpp).
  std::optional<std::string> why_not_resize(std::size_t size) const;
  // The size the core keeps the cluster at (the flag, a persisted or an
  // operator's size), and the one being written to the store, if any.
  std::size_t cluster_size() const { return config_.cluster_size; }
  std::optional<std::size_t> resize_pending() const;
  // Agents that offered room for a member or run one, not reported lost since.
  std::size_t agents_known() const { return agents_known_.size(); }
  // Why OperatorRestore would be ignored now (as why_not_unlock: only when
  // locked after a total loss); nullopt when it would be acted upon.
  std::optional<std::string> why_not_restore() const;
  // A restore is due or under way (-restore-from before the first bootstrap,
  // or POST /restore): the snapshot's URI and one line on where it stands.
  bool restoring() const { return restore_.has_value(); }
  std::string restore_status() const;
  // How the last restore ended ("" before the first).
  const std::string& last_restore_outcome() const { return last_restore_outcome_; }
  // Backups (scheduler_core_backup.cpp): why OperatorBackup would be
  // refused now, or nullopt when it would start a backup at once.
  std::optional<std::string> why_not_backup() const;
  const BackupProgress& backups() const { return backup_; }
  // When the next scheduled backup is due (nullopt: backups off, or one is
  // under way); once due, why_not_backup() says what it waits for.
  std::optional<Millis> next_backup_at() const;
  // Persist mode: whether the shell may subscribe to Mesos now. Not while
  // the ZooKeeper session may be gone: another scheduler may lead, and a
  // subscription would take the framework from it; the shell tries again
  // later. Asked before every subscription attempt.
  bool may_subscribe(Millis now) const { return !session_may_be_gone(now); }
  // No launches, kills or membership changes: the core's picture may be stale
  // (not subscribed, or Mesos has not yet answered about every known task
  // since the last subscription).
  bool immutable() const { return !subscribed_ || !reconcile_.in_sync(); }
  // Persist mode: whether a new member may be launched as far as the store
  // is concerned (framework ID persisted, store reachable, no failed write
  // outstanding). Always true without persistence.
  bool can_persist() const;
  // One line each, for logs and the admin interface.
  std::string reconcile_status() const { return reconcile_.describe(); }
  std::string persist_status() const;
  // What the last reconcile pass decided, or why it is waiting (one line).
  const std::string& plan_reason() const { return plan_reason_; }
  // Token of the cluster bootstrapped last (empty before the first launch).
  const std::string& cluster_token() const { return cluster_token_; }
  const std::string& framework_id() const { return framework_id_; }
  // Whether a membership change (etcd add, launch until RUNNING, etcd
  // remove) is still in flight.
  bool change_in_flight() const;

 private:
  using Effects = std::vector<Effect>;

  // What the core knows of a member beyond the public Member.
  struct Tracked {
    Millis launch_deadline{0};  // until RUNNING
    bool ran = false;           // reached TASK_RUNNING at least once
    // Recovered from a record written before its launch: it may have run
    // (and held data) under the dead scheduler, whose write at TASK_RUNNING
    // never landed. Lost, it counts as a member that ran.
    bool may_have_run = false;
    // Launched into the existing cluster after etcd accepted it as a voter:
    // once started it receives the cluster's data, so it counts as a holder
    // of the data before its TASK_RUNNING arrives (issue 9, case 4: updates
    // reordered by a master failover made the core lock as after a total
    // loss while this member ran).
    bool joined = false;
    // Launched in a static bootstrap with others: once one of them runs the
    // cluster exists, and each of the others joins it as it starts, so it
    // counts as joined from then on (found by the simulator, seed 235: the
    // one member that had reported running failed, and the core locked as
    // after a total loss while the two others served its data).
    bool bootstrap_peer = false;
    // When its TASK_RUNNING arrived: etcd's 5-second check counts from its
    // peer connections, made as it started (join_settled_at).
    std::optional<Millis> running_since{};
    // Its LaunchMember was sent by this core: how it ends counts in
    // Counters::launches (a recovered member's launch was counted by the
    // scheduler that made it).
    bool sent = false;
    // The restoring member of a restore (its snapshot's URI): failing before
    // it ran locks the core again, launching nothing more.
    std::string restore_uri{};
    // Mesos answered TASK_UNKNOWN about it since the last subscription:
    // when it first did, and when to ask again (Config::unknown_task_grace).
    std::optional<Millis> unknown_since{};
    Millis unknown_recheck_at{0};
    bool may_hold_data() const { return ran || may_have_run || joined; }
  };
  // AddEtcdMember sent; the offer is held until etcd answers.
  struct PendingAdd {
    Member member;
    std::string offer_id;
    bool offer_valid = true;  // false once rescinded, or the connection is gone
    Millis deadline{0};
    bool agent_lost = false;  // Mesos reported the agent lost: not launched there
  };
  // RemoveEtcdMember sent.
  struct PendingRemove {
    uint64_t etcd_id = 0;
    Millis deadline{0};
    // A shrink: the member's task, killed once etcd removed it.
    std::string retire_task{};
  };
  // A reseed: rank the live members by raft index (kRanking), then turn the
  // best into a one-member cluster (kSeeding) and, once a check of it alone
  // passes, retire every other old member. At most one at a time.
  struct Reseed {
    // kRanking: the status query; kFencing: every member that answered is
    // told to stop etcd (the lease) and report its commit index; kSeeding:
    // the best fenced member restarts as the seed.
    enum class Phase { kRanking, kFencing, kSeeding };
    Phase phase = Phase::kRanking;
    uint64_t id = 0;
    uint64_t query_id = 0;
    Millis deadline{0};                   // status answer, or seed healthy
    std::vector<std::string> candidates;  // task ids, best first
    std::size_t next = 0;                 // index of the next candidate to try
    std::string seed_task;                // the current seed (kSeeding)
    std::string seed_agent;               // and its agent
    bool seed_reported = false;           // its executor said etcd serves again
    bool giving_up = false;               // the seed was told to stop; waiting for its end
    bool seed_may_live = false;           // it ended ambiguously (lost with its agent)
    std::string why;                      // "automatic ..." or "operator request"
    // An operator accepted going without members that do not answer.
    bool skip_silent = false;
    std::vector<std::string> skipped;  // names of the silent members left out
    // Candidates whose executor failed before changing anything: kept
    // running as old members ("name: why"), and the highest raft index
    // among them: a later candidate must hold as much, or the writes only
    // the kept ones hold would be lost.
    std::vector<std::string> failures;
    std::optional<uint64_t> kept_index;
    std::map<std::string, uint64_t> raft_index;  // by task id, from the ranking
    // Task ids told to fence whose report has not come, and those fenced
    // (their raft_index is their stopped data's commit index). A fence
    // holds for the lease; it is renewed at fence_renew_at.
    std::set<std::string> fence_pending;
    std::set<std::string> fenced;
    Millis fence_renew_at{0};
  };
  // Why a member leaves members_.
  enum class Departure {
    kFailed,    // Mesos reported it lost (or gone with its agent)
    kTimedOut,  // no TASK_RUNNING within launch_timeout: killed
    kCrashed,   // its process ended on an agent that is still there
    kRetired,   // a reseed replaced its cluster: killed on purpose
  };

  void on(const Subscribed& e, Millis now, Effects& out);
  void on(const Disconnected& e, Millis now, Effects& out);
  void on(const OffersReceived& e, Millis now, Effects& out);
  void on(const OfferRescinded& e, Millis now, Effects& out);
  void on(const StatusUpdate& e, Millis now, Effects& out);
  void on(const AgentLost& e, Millis now, Effects& out);
  void on(const HealthChecked& e, Millis now, Effects& out);
  void on(const MemberAdded& e, Millis now, Effects& out);
  void on(const MemberRemoved& e, Millis now, Effects& out);
  void on(const MemberStatuses& e, Millis now, Effects& out);
  void on(const ReseedReport& e, Millis now, Effects& out);
  void on(const OperatorReseed& e, Millis now, Effects& out);
  void on(const OperatorUnlock& e, Millis now, Effects& out);
  void on(const OperatorResize& e, Millis now, Effects& out);
  void on(const ClusterSizePersisted& e, Millis now, Effects& out);
  void on(const OperatorRestore& e, Millis now, Effects& out);
  // Leaves the total-loss lock (OperatorUnlock, OperatorRestore): the lost
  // cluster is forgotten and the next pass bootstraps. With `keep_records`
  // the lost members' records stay until a member of the new cluster runs,
  // so that a scheduler restarted meanwhile locks again instead of
  // bootstrapping an empty cluster.
  void leave_total_loss(Millis now, bool keep_records, Effects& out);
  // The restoring member failed before it ran (scheduler_core_restore.cpp).
  void restore_failed(const std::string& uri, const std::string& why);
  void on(const Recovered& e, Millis now, Effects& out);
  void on(const FrameworkIdPersisted& e, Millis now, Effects& out);
  void on(const TaskPersisted& e, Millis now, Effects& out);
  void on(const HealthObserved& e, Millis now, Effects& out);
  void on(const LeadershipChanged& e, Millis now, Effects& out);
  void on(const FrameworkError& e, Millis now, Effects& out);
  void on(const StoreCleared& e, Millis now, Effects& out);
  void on(const SpaceStepDone& e, Millis now, Effects& out);
  void on(const CertificateRequested& e, Millis now, Effects& out);
  void on(const OperatorBackup& e, Millis now, Effects& out);
  void on(const BackupDone& e, Millis now, Effects& out);
  // Backups (scheduler_core_backup.cpp): a scheduled one when due.
  void maybe_backup(Millis now, Effects& out);
  void start_backup(Millis now, std::string why, Effects& out);
  // NOSPACE recovery (scheduler_core_space.cpp).
  void consider_space_recovery(const HealthResult& result, uint64_t check_id, bool fresh,
                               Effects& out);
  // A status update without the reseed report it may carry.
  void on_update(const StatusUpdate& e, Millis now, Effects& out);
  // Emits ExitScheduler (once); the shell performs nothing after it.
  void exit_scheduler(std::string reason, Effects& out);
  // Persist mode: the ZooKeeper session may be gone, so another scheduler
  // may lead: expired, or cut off longer than the session timeout (the
  // client hears of an expiry only once it reaches ZooKeeper again).
  bool session_may_be_gone(Millis now) const;
  // Whether the store may be written: connected, leading, and elected again
  // after an expiry.
  bool store_writable() const;

  // Persistence (scheduler_core_persist.cpp).
  // Records the wish to write (or remove) a member's record; flush_writes()
  // emits it at the end of the step, so that handlers without an effect
  // list (fail_member) can ask for writes too.
  void write_task(const Member& member, bool remove);
  void flush_writes(Effects& out);
  void persist_framework_id(Effects& out);
  void retry_writes(Millis now, Effects& out);
  void tick_reconciliation(Millis now, Effects& out);
  // A TASK_UNKNOWN about a member: true while it is kept (asked about again
  // later), false once the grace has passed and it counts as lost.
  bool keep_unknown(const StatusUpdate& e, Millis now);
  // Asks Mesos again about members it called unknown (one explicit Reconcile).
  void recheck_unknown(Millis now, Effects& out);
  // Forgets the stray seed's record once its quarantine is over.
  void release_stray_record(Millis now);

  // The reconcile pass: picks at most one next step. `offers` are the offers
  // of the current event (null outside OffersReceived); `used` marks the one
  // taken, if any.
  void reconcile(Millis now, const std::vector<OfferView>* offers, std::vector<bool>* used,
                 Effects& out);
  ClusterPicture picture() const;
  void start_member(NextStep step, const std::vector<OfferView>& offers, std::vector<bool>& used,
                    Millis now, Effects& out);
  void start_remove(uint64_t etcd_id, Millis now, Effects& out, std::string retire_task = {});
  // Resize (scheduler_core_resize.cpp): writes the size asked for (persist
  // mode) when due, and applies it.
  void persist_cluster_size(Millis now, Effects& out);
  void apply_cluster_size(std::size_t size);
  void lock(const std::string& reason);
  void revive_if_due(Effects& out);

  // Static bootstrap (scheduler_core_bootstrap.cpp): offers of distinct
  // agents held while the window lasts, then every member launched at once,
  // or the first alone when too few agents offered.
  void start_bootstrap(const std::vector<OfferView>* offers, std::vector<bool>* used, Millis now,
                       Effects& out);
  void hold_bootstrap_offers(const std::vector<OfferView>& offers, std::vector<bool>& used,
                             Millis now);
  void bootstrap_with(const std::vector<Placement>& placements, Millis now, Effects& out);
  // Gives the held offers back (declined when `decline`).
  void release_bootstrap_hold(bool decline, Effects& out);
  // Forgets held offers that are no longer ours (rescinded, agent lost).
  void drop_bootstrap_offers(const std::function<bool(const Placement&)>& gone, bool decline,
                             Effects& out);
  // How long unused offers are refused: briefly while the cluster is below size.
  double refuse_seconds_now() const;
  // When etcd's 5-second check lets the next member add through (see
  // Config::join_settle); nullopt when it does not apply.
  std::optional<Millis> join_settled_at() const;
  Member new_member(const Placement& placement);
  void launch(Member member, const std::string& offer_id, const std::string& cluster_state,
              const std::string& initial, Millis now, Effects& out,
              const std::string& restore_uri = {});
  void member_ran(const std::string& task_id, Millis now);
  // A LaunchMember was emitted for the member (joining an existing cluster
  // when `joins`): counted as launched, and as a replacement when it stands
  // in for a member that failed.
  void note_launch_sent(const std::string& task_id, bool joins);
  // Counts the offers declined among `out` and observes check durations.
  void count_effects(const Effects& out);
  void note_check_duration(Millis duration);
  void fail_member(const std::string& task_id, Millis now,
                   Departure departure = Departure::kFailed);
  void membership_changed(Millis now);
  void forget_departed(const HealthResult& fresh);
  // While seeding: the raft indices a check saw raise the candidates' (never lower).
  void note_raft_indices(const HealthResult& result);
  // Kills the members a committing cluster's member list leaves out.
  bool retire_unlisted(const HealthResult& fresh, Millis now, Effects& out);
  void abandon_add(const PendingAdd& add, Effects& out);
  // Persist mode: the held launch's record was written; launch it now, or
  // give it up if the core may not act any more.
  void release_launch(const std::string& task_id, Millis now, Effects& out);
  // Persist mode: gives up a launch whose record was not (or not yet)
  // written: the member is forgotten (its record too), and the offer is
  // declined when `decline` and it is still ours.
  // `task_id` by value: callers pass keys of the maps it erases from.
  // A member of a static bootstrap's group takes the others with it; they
  // are declined when `decline_mates` (default: `decline`).
  void abandon_launch(std::string task_id, bool decline, Millis now, Effects& out,
                      std::optional<bool> decline_mates = std::nullopt);
  void abandon_all_launches(Millis now, Effects& out);

  void expire_health_check(Millis now);
  void expire_launches(Millis now, Effects& out);
  // Kills the unknown tasks reported while the core was immutable.
  void kill_strangers(Effects& out);
  void expire_pending_change(Millis now, Effects& out);
  void start_health_check(Millis now, Effects& out);
  std::vector<Member> health_check_targets();

  // Livelock and reseed (scheduler_core_reseed.cpp).
  void judge_livelock(const HealthResult& result, bool fresh, Millis now);
  bool launch_or_add_in_flight() const;
  void maybe_auto_reseed(Millis now, Effects& out);
  void start_reseed(Millis now, std::string why, bool skip_silent, Effects& out);
  // Whether the reseed under way may still go on: the majority is lost, or
  // an operator forced it past silent members and nothing shows commits.
  bool reseed_still_needed() const;
  void halt_reseeds(Millis now);
  const std::string& reseed_halt_text() const;
  void advance_reseed(Millis now, Effects& out);
  void try_next_seed(Millis now, Effects& out);
  // Fencing: orders (or renewals) for `task_ids`, a report, the end of it.
  Millis fence_lease() const { return config_.seed_timeout * 2; }
  void send_fences(const std::set<std::string>& task_ids, Millis now, Effects& out);
  void on_fence_report(const ReseedReport& e, Millis now, Effects& out);
  void advance_fencing(Millis now, Effects& out);
  // A reseed that cannot go on now: its fences released, asked again after
  // the silent members' wait.
  void postpone_reseed(Millis now, Effects& out, const std::string& why);
  // Ends the fences that reported: a fence order with kFenceRelease as lease.
  void release_fences(Effects& out);
  // members_ without those fenced by the reseed under way: a fenced member
  // does not answer, and must not count as one serving behind a partition.
  std::vector<Member> unfenced_members() const;
  void give_up_seed(Millis now, const std::string& why, Effects& out);
  void seed_healthy(Millis now, Effects& out);
  void end_reseed(Millis now, const std::string& outcome);
  // A member's task ended (definitive: its process is known to be gone);
  // matters when it is the current seed.
  void note_seed_end(const std::string& task_id, bool definitive);
  // Mesos reported that a task's process ended for sure.
  void note_task_gone(const std::string& task_id);

  Member* find_member(const std::string& task_id);
  std::set<std::string> excluded_agents(Millis now) const;
  std::size_t count_running() const;
  bool may_act() const { return !immutable() && !locked_; }

  Config config_;
  SplitMix64 rng_;
  bool subscribed_ = false;
  std::string framework_id_;
  std::vector<Member> members_;             // launch order
  std::map<std::string, Tracked> tracked_;  // by task id, one per member
  // (task id, reseed id) of fences released: their answers release nothing more.
  std::set<std::pair<std::string, uint64_t>> released_fences_;
  Stats stats_;
  Counters counters_;
  // Members that ran and failed, not yet stood in for by a member launched
  // into the cluster (Counters::replacements); at most the cluster size.
  std::size_t owed_replacements_ = 0;
  std::optional<HealthResult> last_health_;

  AckLedger acks_;
  CheckSchedule checks_;
  // Bumped on every membership change; a health verdict counts for decisions
  // only if its check started in the current epoch.
  uint64_t epoch_ = 0;
  std::optional<HealthResult> fresh_;  // verdict of a check started in `epoch_`
  std::variant<std::monostate, PendingAdd, PendingRemove> change_;
  // Agents where members failed lately (see Config::failed_agent_backoff).
  struct AgentPenalty {
    int failures = 0;
    Millis last_failure{0};
    Millis until{0};  // no member there before
  };
  std::map<std::string, AgentPenalty> agent_penalty_;  // by agent id
  // A member failed there: a crash waits a backoff that grows with each
  // crash there; an agent fault (lost, timed out) the whole cooldown.
  void penalise_agent(const std::string& agent_id, Millis now, bool crash);
  // Agents where a member failed within failed_agent_cooldown: taken last.
  std::set<std::string> avoided_agents(Millis now) const;
  // Failed members etcd may still list (until a fresh check shows otherwise):
  // a member launched meanwhile must name them in its initial cluster, or etcd
  // refuses to start it ("member count is unequal").
  std::vector<Member> departed_;
  // Unknown tasks reported running while the core was immutable (task id ->
  // agent id): killed as soon as it may act.
  std::map<std::string, std::string> strangers_;

  uint64_t next_member_number_ = 1;  // names are never reused
  std::string cluster_token_;
  bool ever_ran_ = false;
  // A member left a complete cluster: the offers declined meanwhile (refused
  // for offer_refuse_seconds) are revived at the end of the step.
  bool revive_due_ = false;
  // Offers held for a static bootstrap (Config::bootstrap_window).
  struct BootstrapHold {
    std::vector<Placement> placements;  // distinct agents, in arrival order
    Millis until{0};                    // the window's end
  };
  std::optional<BootstrapHold> bootstrap_hold_;
  bool locked_ = false;
  std::string lock_reason_;
  // A restore due at the next bootstrap, or launched and not yet run
  // (scheduler_core_restore.cpp).
  struct Restore {
    std::string uri;
    std::string why;  // "-restore-from" or "operator request"
  };
  std::optional<Restore> restore_;
  std::string last_restore_outcome_;
  // What the restoring member's last update said when it ended.
  std::string restore_end_message_;
  std::string plan_reason_;

  std::optional<Millis> livelock_since_;
  std::string livelock_reason_;
  std::optional<Reseed> reseed_;
  // The recovery from a NOSPACE alarm in progress: the steps not yet sent
  // (the one in flight was the front before it was sent).
  struct SpaceRecovery {
    uint64_t id = 0;
    std::vector<RecoverSpace> steps;
    bool abandon = false;  // a check found no quorum: stop after this step
  };
  std::optional<SpaceRecovery> space_;
  uint64_t next_space_id_ = 1;
  // Checks up to this id started before the last recovery ended: their
  // alarm may be one it has disarmed since (found by the simulator).
  uint64_t space_settled_after_check_ = 0;
  struct Partition {
    std::string reason;
    bool commits = false;
    std::vector<std::string> silent;
  };
  std::optional<Partition> partition_;
  // While partitioned, Mesos is asked about every task this often.
  static constexpr Millis kPartitionReconcileInterval{30000};
  Millis partition_reconcile_at_{0};
  // Every candidate of the last reseed failed and was kept (see locked()).
  std::optional<std::string> reseed_halt_;
  // Members that did not answer the status query but run: asked again
  // after this wait, doubling up to a bound.
  std::optional<Millis> silent_retry_wait_;
  // After a failed reseed the next automatic one waits this long.
  std::optional<Millis> reseed_retry_at_;
  // A seed that may still serve behind a partition (see Config).
  struct StraySeed {
    std::string task_id;
    std::string agent_id;
    Millis since{0};
  };
  std::optional<StraySeed> stray_seed_;
  Millis last_now_{0};  // of the latest step or tick, for the const queries
  bool stray_seed_blocks(Millis now) const;
  std::string last_reseed_outcome_;
  uint64_t next_reseed_id_ = 1;
  uint64_t next_query_id_ = 1;

  // Persistence and reconciliation (persist mode; see Config::persist).
  // A pending write of one task's record: the latest wish (put or remove)
  // and how many writes for it are in flight.
  struct TaskWrite {
    bool remove = false;
    Member member;
    int in_flight = 0;
    bool failed = false;  // the last answer was a failure: retry at retry_at
    bool unsent = false;  // wished for, not emitted yet
    Millis retry_at{0};
  };
  ReconcileTracker reconcile_;
  std::string persisted_framework_id_;  // what the store holds
  bool framework_id_in_flight_ = false;
  Millis framework_id_retry_at_{0};
  // Leadership (persist mode; scheduler_core_persist.cpp, "Leadership").
  // The shell runs the core once elected, so it starts leading.
  bool leading_ = true;
  ZkSession zk_session_ = ZkSession::kConnected;
  Millis zk_lost_since_{0};  // when the connection was lost (kConnectionLost)
  // The session expired while this core led: it acts on Mesos's word only,
  // writes nothing until elected again, and never subscribes again.
  bool expired_ = false;
  bool framework_gone_ = false;                   // Mesos removed the framework: clearing the store
  std::string removed_message_;                   // what the exit then says first
  std::map<std::string, TaskWrite> task_writes_;  // by task id
  // A launch decided but not sent (persist mode): its offer is held until
  // the member's record is written, so that a restarted scheduler knows
  // every task that may run (found by the simulator, persist seed 315612:
  // a member that reached TASK_RUNNING while the store was down was never
  // recorded, and a restarted core bootstrapped a second cluster).
  struct HeldLaunch {
    std::string offer_id;
    LaunchSpec spec;
    bool recorded = false;  // written; a static bootstrap waits for all its members
  };
  std::map<std::string, HeldLaunch> held_launches_;  // by task id
  // A static bootstrap's members held for their records: launched together
  // once every record is written, and given up together when one cannot
  // be launched (a cluster launched without a majority of its initial
  // members could never elect a leader).
  std::vector<std::string> bootstrap_group_;  // task ids, launch order
  // Records of the last members that ran, kept while locked after a total
  // loss (forgotten on OperatorUnlock): they make a restarted core lock too.
  std::vector<Member> lost_records_;
  // The record of a seed that may still serve (stray_seed_), kept while it
  // is quarantined: a restarted core recovers it, hears it is lost, and
  // quarantines it too.
  std::optional<Member> stray_record_;
  // Recovered members Mesos has not reported on since (task ids).
  std::set<std::string> unconfirmed_;
  bool exit_sent_ = false;
  // A size an operator asked for, not yet written to the store (persist
  // mode): written, it becomes config_.cluster_size.
  struct PendingSize {
    std::size_t size = 0;
    bool in_flight = false;
    Millis retry_at{0};
  };
  std::optional<PendingSize> pending_size_;
  std::set<std::string> agents_known_;

  // Backups: the one under way and the counters (see BackupProgress).
  BackupProgress backup_;
  uint64_t next_backup_id_ = 1;
};

}  // namespace etcdmesos::core
