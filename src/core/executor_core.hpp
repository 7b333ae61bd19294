// The executor's decision logic as a pure state machine, the member-side
// sibling of scheduler_core.hpp: the shell (executor/executor.cpp, or the
// simulator) feeds it what happened — the agent's LAUNCH, KILL, SHUTDOWN and
// acknowledgements, etcd's exits and readiness, reseed orders, the outcome of
// each effect it asked for — and the passing of time, and performs the
// effects it returns: start or signal etcd, ask etcd for its status, copy
// the data directory aside, read the WAL's commit index, send a status
// update, exit.
//
// What it decides (executor/executor.hpp has the whole story):
// - One task per executor; a second LAUNCH is refused with TASK_FAILED.
// - TASK_STARTING when etcd is spawned, TASK_RUNNING once it serves.
// - etcd exiting with status 0 was removed from its cluster: TASK_FAILED at
//   once. Any other exit of an etcd that has served is restarted on its data
//   after a backoff (common/backoff.hpp), at most restart_attempts times
//   (earned back after restart_budget_reset_after of serving); an etcd that
//   never served is not restarted.
// - KILL/SHUTDOWN: SIGTERM, SIGKILL after the grace; TASK_KILLED when etcd
//   has ended. The terminal update is sent once; the executor exits when it
//   is acknowledged, or after terminal_ack_timeout, or at the end of the
//   shutdown grace, or at once with no agent to tell.
// - With TLS (the task data says so): before etcd starts, the certificate
//   is asked from the scheduler (RequestCertificate; the shell makes the key
//   and the request and sends it as an executor MESSAGE), again every
//   certificate_retry until an answer comes (messages may be lost), and the
//   task fails when none came within certificate_wait or the scheduler
//   refused. A certificate is renewed at two thirds of its lifetime, without
//   touching etcd (etcd 3.4 reads its certificate files on each new
//   connection); a failed renewal is tried again and never stops etcd.
// - Reseed orders (fence and seed): the leader check, the stop, the commit
//   index of a fenced member's data, the lease, the copy aside and the one
//   --force-new-cluster start, each answered with a TASK_RUNNING update
//   (ReseedAnswer) that says whether etcd's data is untouched.
// - A restoring task (issue 14): the snapshot is restored (RestoreSnapshot)
//   before anything else; a restore that fails ends the task with
//   TASK_FAILED and the reason, and etcd never starts.
//
// No clocks, I/O or randomness: time is the `now` passed with each event
// and to tick(); next_deadline() says when tick() is due next. Same inputs,
// same outputs. Not thread-safe: one event loop calls it. Never throws on
// anything a peer sends; events that no longer apply (a stale generation,
// an answer nobody waits for) are ignored.
#pragma once

#include "core/types.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace etcdmesos::core {

struct ExecutorConfig {
  // KILL without a kill policy: SIGTERM, then SIGKILL after this long.
  Millis default_kill_grace{5000};
  // SHUTDOWN must end the executor within this time, terminal update included.
  Millis shutdown_grace{5000};
  // How long to wait for the agent to acknowledge the terminal update.
  Millis terminal_ack_timeout{30000};
  int restart_attempts = 3;
  Millis restart_backoff_initial{1000};
  Millis restart_backoff_max{30000};
  Millis restart_budget_reset_after{600000};
  // SIGTERM to SIGKILL when etcd is stopped for a reseed.
  Millis reseed_stop_grace{10000};
  // A seed or fence is refused while etcd names a leader; the tests of the
  // reseed's own steps with a lone etcd (which leads itself) turn it off.
  bool refuse_reseed_while_led = true;
  // TLS: a certificate request unanswered this long is sent again; without
  // a certificate this long after the launch the task fails.
  Millis certificate_retry{5000};
  Millis certificate_wait{120000};
};

enum class ExecutorPhase { kIdle, kStarting, kRunning, kKilling, kDone, kExited };
const char* to_string(ExecutorPhase phase);

// A reseed order as the executor received it (decoded by the shell).
struct ReseedCommand {
  ReseedAction action = ReseedAction::kSeed;
  uint64_t reseed_id = 0;
  Millis lease{0};  // a fence's lease; 0 for a seed
  bool operator==(const ReseedCommand&) const = default;
};

// ---- events (the shell's observations) ----

// The agent's LAUNCH. `member` is empty when the task data did not decode;
// `error` then says why.
struct TaskLaunched {
  std::string task_id;
  std::optional<Millis> kill_grace;  // the task's kill policy
  struct Member {
    std::string name;
    std::string client;  // host:port etcd serves clients on
    bool tls = false;    // serves TLS: a certificate is needed first
    // Restores the snapshot the agent fetched into the data directory
    // before etcd's first start (issue 14).
    bool restore = false;
  };
  std::optional<Member> member;
  std::string error;
};
// The etcd process of `generation` could not be spawned.
struct EtcdSpawnFailed {
  uint64_t generation = 0;
  std::string error;
};
// etcd of `generation` answered a status request: it serves clients.
struct EtcdServing {
  uint64_t generation = 0;
  uint64_t member_id = 0;
  uint64_t raft_index = 0;
};
// etcd of `generation` ended. `description` is e.g. "exited with status 2";
// `last_log_line` what it logged last (summarised); `logged_removed` that
// its log since the start says it was removed from its cluster.
struct EtcdExited {
  uint64_t generation = 0;
  bool signaled = false;
  int code = 0;
  std::string description;
  std::string last_log_line;
  bool logged_removed = false;
};
struct ReseedOrdered {
  ReseedCommand order;
};
// The answer to AskEtcdStatus: nullopt when etcd did not answer.
struct EtcdStatusAnswered {
  struct Status {
    uint64_t leader = 0;
    uint64_t raft_index = 0;
  };
  std::optional<Status> status;
};
// The answer to CopyData: ok with what was done, or why nothing was written.
struct DataCopied {
  uint64_t reseed_id = 0;
  bool ok = false;
  std::string message;
};
// The answer to ReadCommitIndex.
struct CommitIndexRead {
  std::optional<uint64_t> index;
  std::string error;
};
struct KillRequested {
  std::string task_id;
  std::optional<Millis> grace;
};
struct ShutdownRequested {
  std::string why;
};
struct AgentGone {
  std::string reason;
};
// The answer to RequestCertificate `request_id`: the certificate is in
// place (written next to the key, checked against it), valid for
// `lifetime` in all and for `remaining` from now; or refused by the
// scheduler, or unusable, with the reason.
struct CertificateAnswered {
  uint64_t request_id = 0;
  bool ok = false;
  std::string reason;
  Millis lifetime{0};
  Millis remaining{0};
};
// The answer to RestoreSnapshot: the data directory holds the restored
// snapshot, or why not (etcdctl's own words, or a missing or empty file).
struct SnapshotRestored {
  bool ok = false;
  std::string message;
};
// The agent acknowledged the terminal update (the shell matches its UUID).
struct TerminalAcknowledged {};
// The terminal update could not be handed to the agent at all.
struct TerminalUnsent {};

using ExecutorEvent =
    std::variant<TaskLaunched, EtcdSpawnFailed, EtcdServing, EtcdExited, ReseedOrdered,
                 EtcdStatusAnswered, DataCopied, CommitIndexRead, KillRequested, ShutdownRequested,
                 AgentGone, TerminalAcknowledged, TerminalUnsent, CertificateAnswered,
                 SnapshotRestored>;

// ---- effects (for the shell to perform, in order) ----

// Start etcd on its data directory; `generation` tags its exit and its
// readiness. The shell probes its readiness (EtcdServing) while
// probe_ready(generation) holds.
struct SpawnEtcd {
  uint64_t generation = 0;
  bool force_new_cluster = false;
};
struct SignalEtcd {
  bool kill = false;  // SIGKILL; else SIGTERM
  Millis grace{0};    // SIGTERM: when SIGKILL follows
};
// One status request to etcd (EtcdStatusAnswered).
struct AskEtcdStatus {};
// Copy etcd's data directory aside for this reseed (DataCopied).
struct CopyData {
  uint64_t reseed_id = 0;
};
// The commit index in the stopped etcd's WAL (CommitIndexRead).
struct ReadCommitIndex {};
// The executor's answer to a reseed order, carried by an update's labels.
struct ReseedAnswer {
  ReseedCommand order;
  bool ok = false;
  bool data_untouched = false;  // failed only
  uint64_t raft_index = 0;      // an ok fence only
};
struct SendUpdate {
  std::string task_id;
  TaskState state = TaskState::kRunning;
  std::string message;
  std::optional<uint64_t> etcd_member_id;
  std::optional<ReseedAnswer> reseed;
  bool terminal = false;  // the task's last update: the shell awaits its ack
};
struct ExitExecutor {
  int code = 0;
  std::string why;
};
// Ask the scheduler for the member's certificate (an executor MESSAGE with a
// certificate request from the member's key; the key is made once and kept
// in the sandbox). Answered by CertificateAnswered with the same id, or by
// nothing: the core asks again.
struct RequestCertificate {
  uint64_t request_id = 0;
};
// Restore the task's snapshot file into the (not yet existing) data
// directory as a new one-member cluster with the task's name, peer URL and
// token (etcdctl snapshot restore, which checks the snapshot's SHA-256);
// answered by SnapshotRestored. Never after etcd has started once.
struct RestoreSnapshot {};
struct LogLine {
  enum class Level { kInfo, kWarn, kError };
  Level level = Level::kInfo;
  std::string text;
};

using ExecutorEffect =
    std::variant<SpawnEtcd, SignalEtcd, AskEtcdStatus, CopyData, ReadCommitIndex, SendUpdate,
                 ExitExecutor, LogLine, RequestCertificate, RestoreSnapshot>;

class ExecutorCore {
 public:
  explicit ExecutorCore(ExecutorConfig config);

  std::vector<ExecutorEffect> step(const ExecutorEvent& event, Millis now);
  // Advances time: SIGKILL after a grace, restarts after their backoff, the
  // end of a fence's lease, exits without an acknowledgement.
  std::vector<ExecutorEffect> tick(Millis now);
  // When tick() has something to do next; nullopt when nothing is timed.
  std::optional<Millis> next_deadline() const;

  ExecutorPhase phase() const { return phase_; }
  const std::string& task_id() const { return task_id_; }
  // The generation of the last etcd spawned (0 before the first).
  uint64_t generation() const { return generation_; }
  bool etcd_running() const { return etcd_running_; }
  // Whether readiness of etcd of `generation` is still of interest.
  bool probe_ready(uint64_t generation) const {
    return generation == generation_ &&
           (phase_ == ExecutorPhase::kStarting || phase_ == ExecutorPhase::kRunning);
  }
  // etcd is stopped for a fence (whose lease has not ended).
  bool fenced() const { return fence_.has_value(); }
  int restarts_done() const { return restarts_done_; }

 private:
  using Effects = std::vector<ExecutorEffect>;
  // What a failed spawn leads to.
  enum class SpawnFor { kLaunch, kRestart, kSeed, kAfterFailedCopy, kAfterFence };
  struct Fence {
    uint64_t raft_index = 0;  // what the stopped data holds as committed
    Millis until{0};
  };
  // A copy aside under way, and whether a fence holds meanwhile.
  struct Copy {
    ReseedCommand order;
    bool fenced = false;
  };

  void on(const TaskLaunched& e, Millis now, Effects& out);
  void on(const EtcdSpawnFailed& e, Millis now, Effects& out);
  void on(const EtcdServing& e, Millis now, Effects& out);
  void on(const EtcdExited& e, Millis now, Effects& out);
  void on(const ReseedOrdered& e, Millis now, Effects& out);
  void on(const EtcdStatusAnswered& e, Millis now, Effects& out);
  void on(const DataCopied& e, Millis now, Effects& out);
  void on(const CommitIndexRead& e, Millis now, Effects& out);
  void on(const KillRequested& e, Millis now, Effects& out);
  void on(const ShutdownRequested& e, Millis now, Effects& out);
  void on(const AgentGone& e, Millis now, Effects& out);
  void on(const TerminalAcknowledged& e, Millis now, Effects& out);
  void on(const TerminalUnsent& e, Millis now, Effects& out);
  void on(const CertificateAnswered& e, Millis now, Effects& out);
  void on(const SnapshotRestored& e, Millis now, Effects& out);
  // The first start once the data is in place: the certificate first (TLS),
  // then etcd.
  void start_member(Millis now, Effects& out);
  void request_certificate(Millis now, bool renewal, Effects& out);
  void certificate_tick(Millis now, Effects& out);

  void spawn(bool force_new_cluster, SpawnFor why, Effects& out);
  void restart_after_exit(const EtcdExited& e, Millis now, Effects& out);
  void restart_now(Millis now, Effects& out);
  void seed_from_stopped_data(const ReseedCommand& order, const std::string& copied, Effects& out);
  void end_fence_lease(Effects& out);
  // The task is ending on KILL or SHUTDOWN: what waits ends now, else etcd
  // is stopped.
  void kill_task(Millis grace, Millis now, Effects& out);
  void stop_etcd(Millis grace, bool for_kill, Millis now, Effects& out);
  void finish(TaskState state, const std::string& message, Millis now, Effects& out);
  void exit_at(Millis when, const std::string& why);
  void exit(int code, const std::string& why, Effects& out);
  void report_reseed(const ReseedCommand& order, bool ok, const std::string& message,
                     bool untouched, uint64_t raft_index, Effects& out);
  void send(TaskState state, const std::string& message, Effects& out,
            std::optional<uint64_t> member_id = std::nullopt);
  bool data_untouched() const;
  bool ended() const { return phase_ == ExecutorPhase::kDone || phase_ == ExecutorPhase::kExited; }
  void enter(ExecutorPhase to, Effects& out);
  std::string exit_message(const EtcdExited& e) const;

  ExecutorConfig config_;
  ExecutorPhase phase_ = ExecutorPhase::kIdle;
  std::string task_id_;
  std::string member_name_;
  std::string client_;
  Millis kill_grace_{0};
  uint64_t generation_ = 0;
  bool etcd_running_ = false;
  SpawnFor spawn_for_ = SpawnFor::kLaunch;
  std::string restart_why_;  // the exit a pending restart follows
  // Set by KILL and SHUTDOWN (and a lost agent): an etcd exit is TASK_KILLED.
  bool kill_requested_ = false;
  bool shutting_down_ = false;
  bool agent_gone_ = false;
  // SIGKILL for an etcd that outlives its grace.
  std::optional<Millis> kill_at_;
  bool sigkill_sent_ = false;
  std::optional<Millis> exit_at_;
  std::string exit_why_;
  std::optional<Millis> restart_at_;
  int restarts_done_ = 0;
  std::optional<Millis> serving_since_;
  // A reseed order whose etcd is asked whether it names a leader.
  std::optional<ReseedCommand> leader_check_;
  // A seed whose etcd is being stopped (or, fenced, waits for its copy).
  std::optional<ReseedCommand> seeding_;
  // The seed started with --force-new-cluster as `generation`, answered
  // when that etcd serves.
  struct SeedReport {
    ReseedCommand order;
    uint64_t generation = 0;
  };
  std::optional<SeedReport> seed_report_;
  // A --force-new-cluster start ended before it served: the data is no
  // longer the old cluster's member's, whatever runs on it now.
  bool forced_seed_failed_ = false;
  // A fence whose etcd is being stopped, with the index its status named.
  std::optional<ReseedCommand> fencing_;
  std::optional<uint64_t> fencing_status_index_;
  // The fence order whose stopped etcd's WAL is being read.
  std::optional<ReseedCommand> reading_index_;
  std::optional<Fence> fence_;
  std::optional<Copy> copy_;
  // TLS: the request waiting for an answer (0: none), when it was first
  // sent and when it is sent again; whether etcd has its certificate yet,
  // and when it is renewed.
  bool tls_ = false;
  uint64_t certificate_request_ = 0;
  uint64_t certificate_request_seq_ = 0;
  Millis certificate_asked_{0};
  std::optional<Millis> certificate_retry_at_;
  bool have_certificate_ = false;
  std::optional<Millis> renew_at_;
  // The snapshot restore asked for and not answered yet.
  bool restoring_ = false;
};

}  // namespace etcdmesos::core
