// The core's vocabulary: configuration, the member model, the events the shell
// feeds in and the effects it gets back, and the admin counters. Plain values,
// no behaviour beyond formatting; see scheduler_core.hpp for the state machine.
#pragma once

#include "common/reseed_action.hpp"
#include "common/task_state.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace etcdmesos::core {

using Millis = std::chrono::milliseconds;  // monotonic time since an arbitrary origin

struct PortRange {
  uint64_t begin = 0;
  uint64_t end = 0;  // inclusive
  bool operator==(const PortRange&) const = default;
};

// What the core needs of a Mesos offer (the shell converts codec structs).
struct OfferView {
  std::string offer_id;
  std::string agent_id;
  std::string hostname;  // address etcd binds and advertises on that agent
  double cpus = 0;
  double mem_mb = 0;
  double disk_mb = 0;
  std::vector<PortRange> ports;
  bool operator==(const OfferView&) const = default;
};

// Mesos' task states, named as Mesos names them (common/task_state.hpp).
using etcdmesos::TaskState;
// What a reseed asks of a member's executor (common/reseed_action.hpp).
using etcdmesos::ReseedAction;
using etcdmesos::to_string;
// Whether a member in this state is gone for the scheduler: terminal states,
// and also TASK_LOST/TASK_UNREACHABLE/TASK_UNKNOWN (a task that comes back
// later is killed, never re-admitted). TASK_UNKNOWN only after a grace
// (Config::unknown_task_grace, SchedulerCore::keep_unknown).
bool means_member_lost(TaskState state);

// The Mesos executor ID of a member task's executor (one executor per task).
std::string executor_id_for(const std::string& task_id);
// Whether the task's process is known to have ended (or never started):
// FINISHED, FAILED, KILLED, ERROR, DROPPED, GONE, GONE_BY_OPERATOR. LOST,
// UNREACHABLE and UNKNOWN do not say so: a partitioned agent may still run it.
bool process_gone(TaskState state);

struct Config {
  std::string framework_name = "etcd";
  std::size_t cluster_size = 3;
  // Resources of one member task (the executor's own are added by the shell).
  double task_cpus = 1;
  double task_mem_mb = 256;
  double task_disk_mb = 1024;
  bool single_instance_per_agent = true;
  double offer_refuse_seconds = 5;
  // While the cluster is below its size, unused offers are declined for at
  // most this long, so that the next member's offer is not held back for
  // offer_refuse_seconds (the scheduler sets 1 s; unset: no difference).
  std::optional<double> offer_refuse_seconds_while_growing;
  // etcd (strict reconfiguration check, on by default) refuses `member add`
  // unless every other voter has been connected to the member serving the
  // add for the last 5 s. With two or more live members the next add waits
  // this long after the latest of them started running (the scheduler sets
  // 5.5 s: the 5 s plus the time from etcd's peer connection to its
  // TASK_RUNNING); a one-member cluster (the first member, a reseed's seed)
  // has no other voter and never waits. 0: add at once and let etcd refuse.
  // Wait (docs/performance.md, "Waits"): etcd's rule, where etcd applies it.
  Millis join_settle{0};
  // Static bootstrap: with no cluster yet, offers of distinct agents are
  // held up to this long (from the first one held) so that every member is
  // launched at once with one initial cluster listing them all. When fewer
  // agents offered by then, the first member bootstraps alone and the rest
  // grow one at a time. Zero: all at once only when one OFFERS event brings
  // enough offers, else one at a time at once.
  // Wait (docs/performance.md, "Waits"): see the scheduler's default.
  Millis bootstrap_window{0};
  Millis health_check_interval{5000};
  Millis health_check_timeout{10000};
  // How long a launched member may take to report TASK_RUNNING.
  Millis launch_timeout{60000};
  // What the executor itself needs besides the member task; an offer must hold
  // both. Zero means the shell accounts for it elsewhere.
  double executor_cpus = 0;
  double executor_mem_mb = 0;
  // How long an AddEtcdMember/RemoveEtcdMember may stay unanswered before the
  // change is abandoned (the shell's etcd client should answer well before).
  Millis membership_change_timeout{30000};
  // An agent where a member failed gets no member for a backoff that starts
  // at failed_agent_backoff and doubles with each further failure there, up
  // to failed_agent_cooldown; a failure more than failed_agent_cooldown
  // after the previous one there starts again from the beginning. Until
  // failed_agent_cooldown after its last failure, the agent is taken only
  // when no other agent's offer fits (a crashed process on a healthy agent
  // is no reason to wait; whatever killed it may kill the next one too).
  // Wait (docs/performance.md, "Waits"): a member crashing on start must not
  // loop on one agent; another agent is taken at once when one offers.
  Millis failed_agent_backoff{1000};
  Millis failed_agent_cooldown{30000};
  // A status update seen again this long after it was acknowledged is a Mesos
  // retry (first one after 10 s): the acknowledgement was lost, send it again.
  Millis ack_retry_after{8000};
  // Majority lost (livelock) for this long starts a reseed, if auto_reseed.
  Millis reseed_timeout{240000};
  bool auto_reseed = true;
  // From the order to a seed until a health check of it alone passes; after
  // that the seed is given up (killed) and the next candidate is tried.
  Millis seed_timeout{60000};
  // How long a QueryMemberStatus may stay unanswered.
  Millis status_query_timeout{15000};
  // A seed lost with its agent (TASK_LOST, agent removed) may still serve as
  // a one-member cluster behind a partition: no new reseed starts until
  // Mesos reports its task ended for sure, or this long has passed.
  Millis stray_seed_quarantine{300000};

  // Persistence (-zk-framework-persist). When on, the framework ID must be
  // persisted before anything is launched, every member is persisted before
  // its launch and again at TASK_RUNNING (and forgotten when it ends), nothing new is
  // launched while the store cannot persist, and after every subscription
  // the core stays immutable until Mesos answered about every known task.
  bool persist = false;
  // A failed persistence write is tried again after this long.
  Millis persist_retry_interval{2000};
  // The scheduler's ZooKeeper session timeout (-zk-session-timeout): cut off
  // from ZooKeeper longer than this, the session may have expired and
  // another scheduler may lead (see LeadershipChanged).
  Millis zk_session_timeout{10000};
  // Reconciliation after a subscription (see reconciliation.hpp).
  Millis reconcile_first_retry{10000};
  Millis reconcile_max_retry_interval{120000};
  int reconcile_max_retries = 8;
  // Periodic implicit reconciliation while subscribed; zero = none.
  Millis implicit_reconcile_interval{0};
  // TASK_UNKNOWN says the master has no record of the task's agent, which is
  // what a master with an in-memory registry says of every agent after a
  // failover until that agent re-registers: not news of a loss. Such a
  // member is kept, Mesos is asked about it again every unknown_task_recheck,
  // and it counts as lost only when an answer still says TASK_UNKNOWN
  // unknown_task_grace or more after the first such answer since the last
  // subscription (the clock alone never decides: the agent may be back).
  // Wait (docs/performance.md, "Waits"): Mesos's own word that the task's
  // agent is gone (TASK_UNREACHABLE, TASK_GONE) ends it at once.
  Millis unknown_task_recheck{5000};
  Millis unknown_task_grace{60000};

  // TLS (issue 13): an operator's CA is configured, so members serve
  // clients and peers over TLS with certificates the scheduler signs. A
  // member's executor makes its own key and asks for a certificate
  // (CertificateRequested); the core decides whether the request is the
  // member's own, the shell signs it for certificate_validity.
  bool tls = false;
  Millis certificate_validity{30LL * 24 * 3600 * 1000};

  // Restore (issue 14, -restore-from): a snapshot URI (as `etcdctl snapshot
  // save` writes it) that the very first bootstrap of a scheduler that knows
  // no cluster restores instead of starting empty. Never again once the core
  // knows a cluster: with persistence, a restarted scheduler that recovers
  // any task record ignores it. Empty: none.
  std::string restore_from{};
  // Backups (issue 14, -backup-dir): an etcd snapshot every backup_interval
  // from the start of the last one, the first as soon as a fresh check finds
  // the cluster healthy; zero: no backups (an operator's request is refused
  // too). A failed backup is tried again after min(backup_interval,
  // backup_retry) instead. The shell bounds each backup by its own deadline
  // and always answers (BackupDone).
  Millis backup_interval{0};
  Millis backup_retry{60000};
};

// A member as the scheduler knows it.
struct Member {
  std::string name;     // etcd --name, unique per framework ("etcd-3")
  std::string task_id;  // Mesos task id
  std::string agent_id;
  std::string host;
  uint32_t peer_port = 0;
  uint32_t client_port = 0;
  TaskState state = TaskState::kStaging;
  // Launched into an existing cluster (after etcd's member add): once
  // started it receives the cluster's data, before it reports running. Its
  // record says so, so that a restarted scheduler counts it as a holder of
  // the data too (issue 9).
  bool joins = false;
  // Serves clients and peers over TLS (Config::tls; not persisted: every
  // member of a scheduler with a CA does).
  bool tls = false;
  bool operator==(const Member&) const = default;

  std::string peer_url() const;    // http(s)://host:peer_port
  std::string client_url() const;  // http(s)://host:client_port
};

// What an executor needs to start etcd; the shell serialises it into
// TaskInfo.data.
struct LaunchSpec {
  Member member;
  std::string initial_cluster;  // "n1=http://h:p,n2=..."
  std::string cluster_state;    // "new" | "existing"
  std::string cluster_token;
  // Non-empty: the member restores this snapshot (fetched by the agent) into
  // its data directory before etcd's first start, as a new one-member
  // cluster with cluster_token (a new cluster ID); the others join it.
  std::string restore_uri{};
  bool operator==(const LaunchSpec&) const = default;
};

// ------------------------------------------------------------------ events

struct Subscribed {
  std::string framework_id;
};
struct Disconnected {};
struct OffersReceived {
  std::vector<OfferView> offers;
};
struct OfferRescinded {
  std::string offer_id;
};
// An executor's answer to a ReseedOrder (carried in a TASK_RUNNING update).
struct ReseedReport {
  std::string task_id;
  uint64_t reseed_id = 0;
  ReseedAction action = ReseedAction::kSeed;
  bool ok = false;
  std::string message;
  // A failed seed whose executor says its etcd still runs as a member of the
  // old cluster on untouched data (it failed before --force-new-cluster):
  // it is kept and the next candidate tried. Absent (older executors, or a
  // failure after the forced start): it may serve as a one-member cluster.
  bool data_untouched = false;
  // An ok fence: the commit index of the stopped member's data, which is
  // what --force-new-cluster would keep.
  uint64_t raft_index = 0;
};
struct StatusUpdate {
  std::string task_id;
  std::string agent_id;
  TaskState state = TaskState::kStaging;
  std::optional<std::string> uuid;  // raw bytes; present = must be acknowledged
  std::string message;
  std::string reason;
  // An executor's answer to a ReseedOrder, decoded by the shell from the
  // update's labels (codec/reseed.hpp); its task_id is the update's.
  std::optional<ReseedReport> reseed;
};
struct AgentLost {
  std::string agent_id;
};
// An etcd member as etcd's membership API lists it.
struct EtcdMember {
  uint64_t id = 0;
  std::string name;  // empty while the member has not started
  std::vector<std::string> peer_urls;
  std::vector<std::string> client_urls;
  bool operator==(const EtcdMember&) const = default;
};
// An alarm etcd raised on a member: "NOSPACE" (its backend reached the
// quota: the cluster refuses writes until space is recovered) or "CORRUPT".
struct MemberAlarm {
  uint64_t member_id = 0;
  std::string alarm;
  bool operator==(const MemberAlarm&) const = default;
};
struct MemberHealth {
  std::string name;
  bool reachable = false;
  uint64_t leader = 0;
  uint64_t raft_index = 0;
  uint64_t raft_term = 0;
  std::string error;
  uint64_t member_id = 0;      // etcd's id of this member (0: unknown)
  uint64_t db_size_bytes = 0;  // its backend's size as etcd reports it
};
struct HealthResult {
  bool healthy = false;
  std::string reason;  // why unhealthy
  std::vector<MemberHealth> members;
  std::vector<EtcdMember> membership;  // member list as etcd reported it
  // Some member the checker reached showed the cluster committing: the probe
  // write succeeded, or a member that names a leader saw its commit index
  // advance over the check. A majority that commits exists, even where the
  // checker could not reach it.
  bool commits = false;
  std::vector<MemberAlarm> alarms{};  // as etcd listed them during the check
};
// A verdict on a CheckHealth (check_id from the effect).
struct HealthChecked {
  uint64_t check_id = 0;  // from the CheckHealth effect
  HealthResult result;
};

// What one check saw of the cluster (health.hpp judges it).
// One maintenance status read of one member.
struct StatusSample {
  bool reachable = false;  // answered within the timeout
  uint64_t member_id = 0;
  uint64_t leader = 0;  // 0 = none
  uint64_t raft_index = 0;
  uint64_t raft_term = 0;
  std::vector<std::string> errors;  // etcd's own "errors" (e.g. "etcdserver: no leader")
  std::string error;                // why it was unreachable
  uint64_t db_size_bytes = 0;       // the backend's size (dbSize)
};
struct MemberObservation {
  std::string name;
  StatusSample before;
  StatusSample after;
};
struct HealthObservations {
  std::vector<MemberObservation> members;  // one per member the scheduler knows
  bool probe_ok = false;
  std::string probe_error;
  std::vector<EtcdMember> membership;  // etcd's member list; empty if it could not be read
  std::vector<MemberAlarm> alarms{};   // etcd's alarm list (none, or unread: empty)
};
// The answer to CheckHealth as the shell gathers it: the core judges it
// (judge_health) and goes on as with HealthChecked carrying that verdict.
struct HealthObserved {
  uint64_t check_id = 0;
  HealthObservations observations;
};
struct MemberAdded {
  std::string name;
  bool ok = false;
  uint64_t etcd_id = 0;
  std::string error;
};
struct MemberRemoved {
  uint64_t etcd_id = 0;
  bool ok = false;  // an unknown or already removed member counts as ok
  std::string error;
};

// The lease of a fence order that ends a fence at once (a release).
inline constexpr Millis kFenceRelease{1};

// Answers QueryMemberStatus: each member's maintenance status (works without
// quorum); raft_index ranks reseed candidates.
struct MemberStatuses {
  uint64_t query_id = 0;
  std::vector<MemberHealth> members;
};
// An operator asked for a reseed (admin POST /reseed). The shell asks
// why_not_reseed() first to answer the request.
// With skip_silent the operator accepts the risk named in the request: a
// member Mesos reports running that does not answer (it may hold the
// highest raft index, or serve behind a partition) is not waited for.
struct OperatorReseed {
  bool skip_silent = false;
};
// An operator leaves the total-loss lock (admin POST /unlock): the core
// forgets the lost cluster and bootstraps a new, empty one.
struct OperatorUnlock {};
// An operator sets the cluster size (admin POST /cluster-size): 1, 3, 5, 7
// or 9. The shell asks why_not_resize() first. In persist mode the size is
// written to the store (PersistClusterSize) and takes effect once written.
struct OperatorResize {
  std::size_t size = 0;
};
// Answer to PersistClusterSize.
struct ClusterSizePersisted {
  std::size_t size = 0;
  bool ok = false;
  std::string error;
};
// An operator leaves the total-loss lock from a snapshot (admin POST
// /restore?uri=URI): as OperatorUnlock, but the new cluster's first member
// restores `uri` before it starts, alone; the others join once it ran. The
// shell asks why_not_restore() first.
struct OperatorRestore {
  std::string uri;
};

// What the store held when the scheduler started (persist mode; fed once,
// before the first Subscribed): the framework ID to re-subscribe with and
// the members that were running, to be reconciled and adopted.
struct Recovered {
  std::string framework_id;     // empty when none was persisted
  std::vector<Member> members;  // kRunning, or kStaging for a record written before its launch
  // Non-empty: the framework ID's node held something unreadable (why). The
  // core exits rather than register a new framework beside the old one.
  std::string framework_id_unreadable;
  // The size an operator set last (POST /cluster-size), when one was
  // persisted: it wins over Config::cluster_size (the flag).
  std::optional<std::size_t> cluster_size{};
};
// Answer to PersistFrameworkId.
struct FrameworkIdPersisted {
  std::string framework_id;
  bool ok = false;
  std::string error;
};
// Answer to PersistTask (removed = false) or ForgetTask (removed = true).
struct TaskPersisted {
  std::string task_id;
  bool removed = false;
  bool ok = false;
  std::string error;
};
// The scheduler's ZooKeeper session as the shell last saw it (persist mode).
enum class ZkSession {
  kConnected,
  kConnectionLost,  // the session lives on: nobody else can be elected meanwhile
  kExpired,         // gone: another scheduler may be elected
};
const char* to_string(ZkSession session);
// Persist mode: the leader election or the ZooKeeper session changed; fed
// with the current values on every change. Nothing is written to the store
// (and so nothing launched) unless the session is connected and this
// scheduler leads. Whether to keep acting or to exit is the core's rule
// (docs/architecture.md, "Leadership"): it keeps leading through a
// connection loss, and through an expiry for as long as its Mesos
// subscription lives.
struct LeadershipChanged {
  bool leading = false;
  ZkSession session = ZkSession::kConnected;
  // The election names another scheduler as the leader.
  bool another_leads = false;
};
// The master sent ERROR on the subscription (reference §13): the framework
// was removed, another scheduler subscribed as this framework, or another
// error.
struct FrameworkError {
  std::string message;
};
// Answer to ClearStore.
struct StoreCleared {
  bool ok = false;
  std::string error;
};

// Answer to RecoverSpace (same id): the step was done, or why not.
struct SpaceStepDone {
  uint64_t id = 0;
  bool ok = false;
  std::string error;
};

// An executor asks for its member's certificate (an executor MESSAGE). Mesos
// names the sender (agent_id, executor_id: an executor cannot choose them);
// the rest is what the request says, the names read from its CSR by the
// shell. `problem` is why the shell could not read the request (a malformed
// CSR, a bad signature): the core refuses it with that reason.
struct CertificateRequested {
  std::string agent_id;
  std::string executor_id;
  std::string task_id;
  uint64_t request_id = 0;
  std::string common_name;
  std::vector<std::string> ip_sans;
  std::vector<std::string> dns_sans;
  std::string csr_pem;
  std::string problem;
};

// An operator asked for a backup now (admin POST /backup). The shell asks
// why_not_backup() first to answer the request.
struct OperatorBackup {};
// Answer to TakeBackup (same id): the snapshot was written and verified
// (`file` in the backup directory, holding etcd `revision`, `size_bytes`
// long), or why not.
struct BackupDone {
  uint64_t id = 0;
  bool ok = false;
  uint64_t revision = 0;
  uint64_t size_bytes = 0;
  std::string file;
  std::string error;
};

using Event =
    std::variant<Subscribed, Disconnected, OffersReceived, OfferRescinded, StatusUpdate, AgentLost,
                 HealthChecked, MemberAdded, MemberRemoved, MemberStatuses, ReseedReport,
                 OperatorReseed, OperatorUnlock, OperatorRestore, OperatorResize,
                 ClusterSizePersisted, Recovered, FrameworkIdPersisted, TaskPersisted,
                 HealthObserved, LeadershipChanged, FrameworkError, StoreCleared, SpaceStepDone,
                 CertificateRequested, OperatorBackup, BackupDone>;

// ----------------------------------------------------------------- effects

struct LaunchMember {
  std::string offer_id;
  LaunchSpec spec;
  bool operator==(const LaunchMember&) const = default;
};
struct DeclineOffer {
  std::string offer_id;
  double refuse_seconds = 5;
  bool operator==(const DeclineOffer&) const = default;
};
// Clear the refuse filters of every offer declined so far (Mesos REVIVE):
// a member is missing and the agents' offers declined while the cluster was
// complete would otherwise stay away for offer_refuse_seconds.
struct ReviveOffers {
  bool operator==(const ReviveOffers&) const = default;
};
struct KillTask {
  std::string task_id;
  std::string agent_id;
  bool operator==(const KillTask&) const = default;
};
struct Acknowledge {
  std::string task_id;
  std::string agent_id;
  std::string uuid;
  bool operator==(const Acknowledge&) const = default;
};
struct Reconcile {
  std::vector<std::pair<std::string, std::string>> tasks;  // (task id, agent id); empty = implicit
  bool operator==(const Reconcile&) const = default;
};
// Query every given member (status + membership + probe write) and answer with
// HealthChecked carrying the same id.
struct CheckHealth {
  uint64_t check_id = 0;
  std::vector<Member> members;
  bool operator==(const CheckHealth&) const = default;
};
// etcd member add (voter) through any healthy member; answer with MemberAdded.
struct AddEtcdMember {
  std::string name;
  std::string peer_url;
  std::vector<std::string> client_urls;  // whom to ask
  bool operator==(const AddEtcdMember&) const = default;
};
// etcd member remove; answer with MemberRemoved.
struct RemoveEtcdMember {
  uint64_t etcd_id = 0;
  std::vector<std::string> client_urls;
  bool operator==(const RemoveEtcdMember&) const = default;
};

// Maintenance status of every given member, each with a short timeout;
// answer with MemberStatuses carrying the same id.
struct QueryMemberStatus {
  uint64_t query_id = 0;
  std::vector<Member> members;
  bool operator==(const QueryMemberStatus&) const = default;
};
// Tell a member's executor to act (scheduler MESSAGE -> executor); it answers
// with a ReseedReport.
struct ReseedOrder {
  ReseedAction action = ReseedAction::kSeed;
  uint64_t reseed_id = 0;
  std::string task_id;
  std::string agent_id;
  Millis lease{0};  // a fence's lease
  bool operator==(const ReseedOrder&) const = default;
};

// Persist mode: write the framework ID the master assigned; answer with
// FrameworkIdPersisted. Nothing is launched before it succeeded.
struct PersistFrameworkId {
  std::string framework_id;
  bool operator==(const PersistFrameworkId&) const = default;
};
// Persist mode: write the cluster size an operator set; answer with
// ClusterSizePersisted. The size takes effect once written.
struct PersistClusterSize {
  std::size_t size = 0;
  bool operator==(const PersistClusterSize&) const = default;
};
// Persist mode: write which member runs where, before its launch (state not
// kRunning: the record says "launching"; the launch waits for the answer) and
// again once it reached TASK_RUNNING; answer with TaskPersisted.
struct PersistTask {
  Member member;
  bool operator==(const PersistTask&) const = default;
};
// Persist mode: remove a member's record (its task ended); answer with
// TaskPersisted{removed = true}.
struct ForgetTask {
  std::string task_id;
  bool operator==(const ForgetTask&) const = default;
};
// Persist mode, Mesos removed the framework: delete everything persisted
// for it (framework ID and task records), so that the next scheduler
// registers a new framework; answer with StoreCleared.
struct ClearStore {
  bool operator==(const ClearStore&) const = default;
};
// Stop subscribing to Mesos (the framework is gone, or another scheduler
// leads it): no call is sent and no event heard any more.
struct StopSubscribing {
  bool operator==(const StopSubscribing&) const = default;
};
// The core cannot or must not go on (reconciliation never completed,
// another scheduler may lead, the framework was removed): the shell logs
// `reason` and exits non-zero, to be restarted by its supervisor.
struct ExitScheduler {
  std::string reason;
  bool operator==(const ExitScheduler&) const = default;
};

// One step of the recovery from a NOSPACE alarm (etcd's documented
// procedure); answer with SpaceStepDone carrying the same id.
//  - kCompact: compact the history below the current revision, through the
//    first of client_urls that answers;
//  - kDefragment: defragment the one member at client_urls[0] (`member`);
//  - kDisarm: deactivate the NOSPACE alarm of each of alarm_members.
struct RecoverSpace {
  enum class Step { kCompact, kDefragment, kDisarm };
  uint64_t id = 0;
  Step step = Step::kCompact;
  std::vector<std::string> client_urls;
  std::string member;
  std::vector<uint64_t> alarm_members;
  bool operator==(const RecoverSpace&) const = default;
};

// Sign the member's CSR with the operator's CA, valid for `validity`, and
// send the certificate to the executor that asked (scheduler MESSAGE).
struct IssueCertificate {
  std::string agent_id;
  std::string executor_id;
  std::string task_id;
  uint64_t request_id = 0;
  std::string csr_pem;
  Millis validity{0};
  bool operator==(const IssueCertificate&) const = default;
};
// Tell the executor that asked why its request was refused (scheduler
// MESSAGE), so that it reports the reason instead of waiting.
struct RefuseCertificate {
  std::string agent_id;
  std::string executor_id;
  std::string task_id;
  uint64_t request_id = 0;
  std::string reason;
  bool operator==(const RefuseCertificate&) const = default;
};

// Take an etcd snapshot (a backup) from the first of client_urls that
// serves it, verify it and write it to the backup directory; answer with
// BackupDone carrying the same id. client_urls are the members the fresh
// health check found reachable, followers first. `why`: "scheduled" or
// "operator request".
struct TakeBackup {
  uint64_t id = 0;
  std::vector<std::string> client_urls;
  std::string why;
  bool operator==(const TakeBackup&) const = default;
};

using Effect = std::variant<LaunchMember, DeclineOffer, ReviveOffers, KillTask, Acknowledge,
                            Reconcile, CheckHealth, AddEtcdMember, RemoveEtcdMember,
                            QueryMemberStatus, ReseedOrder, PersistFrameworkId, PersistClusterSize,
                            PersistTask, ForgetTask, ClearStore, StopSubscribing, ExitScheduler,
                            RecoverSpace, IssueCertificate, RefuseCertificate, TakeBackup>;

// The names a member's certificate may carry: its host; and a member on a
// loopback address other than 127.0.0.1 also 127.0.0.1, because the kernel
// gives its connections to peers on loopback that source address and etcd
// checks a peer's certificate against the address it connects from (a
// cluster on one host: the demo, the tests). 127.0.0.1 is reachable from
// that host alone, so the name grants nothing elsewhere.
std::vector<std::string> certificate_names_for(const std::string& host);

// Why a certificate request must be refused, or nullopt when it is the
// member's own and may be signed: TLS is configured; the shell could read
// it; it names a member task of this framework that has not ended, and Mesos
// says it came from that task's own executor on the member's agent; its
// common name is the member's name; and every subject alternative name is
// one of certificate_names_for(the member's host), at least one. A member's
// certificate can then never speak for another member, the scheduler, or
// another host.
std::optional<std::string> certificate_refusal(const Config& config,
                                               const std::vector<Member>& members,
                                               const CertificateRequested& request);

std::string describe(const Event& event);
std::string describe(const Effect& effect);
// "1.5s"
std::string describe_duration(Millis d);

// Counters served on the admin /stats endpoint.
struct Stats {
  uint64_t running_servers = 0;
  uint64_t launched_servers = 0;
  uint64_t failed_servers = 0;
  uint64_t cluster_livelocks = 0;
  uint64_t cluster_reseeds = 0;
  bool healthy = false;
};

// Label values of the counters below: small fixed sets, never free text
// (docs/administration.md, "Metrics").
// How a launch ended: it reached TASK_RUNNING; its task ended (or its
// agent was lost) before; no TASK_RUNNING within launch_timeout (killed);
// decided but never sent (its record was not written, its offer went).
inline constexpr std::array<const char*, 4> kLaunchResults{"running", "failed", "timed_out",
                                                           "abandoned"};
// How a reseed ended (the first word of last_reseed_outcome()).
inline constexpr std::array<const char*, 5> kReseedOutcomes{"done", "failed", "abandoned",
                                                            "postponed", "stopped"};
// Why a health check failed: the class of its reason (health.hpp), "timeout"
// for a check that got no answer, "other" for a reason of no known class.
inline constexpr std::array<const char*, 10> kHealthFailureClasses{
    "no_quorum",    "no_leader",    "leader_disagreement", "nospace_alarm", "corrupt_alarm",
    "probe_failed", "term_changed", "no_progress",         "timeout",       "other"};
// Which persistence write failed.
inline constexpr std::array<const char*, 3> kPersistWrites{"framework_id", "task", "clear"};
// Upper bounds (ms) of the health-check duration buckets; one more bucket
// holds the longer ones.
inline constexpr std::array<int64_t, 11> kHealthCheckBucketsMs{5,   10,   25,   50,   100,  250,
                                                               500, 1000, 2500, 5000, 10000};

// What the core decided or saw, counted since it was made and never reset
// (the shell exports them as Prometheus counters: scheduler/metrics.hpp).
// Keys of the maps are from the lists above.
struct Counters {
  uint64_t offers_received = 0;
  uint64_t offers_declined = 0;
  std::map<std::string, uint64_t> launches;  // by kLaunchResults
  // Members launched into the cluster in place of one that failed (not one
  // retired by a reseed, not growth to the cluster size).
  uint64_t replacements = 0;
  std::map<std::string, uint64_t> reseeds;             // ended, by kReseedOutcomes
  uint64_t health_checks = 0;                          // verdicts, timeouts included
  std::map<std::string, uint64_t> health_failures;     // by kHealthFailureClasses
  std::map<std::string, uint64_t> persistence_errors;  // by kPersistWrites
  // Durations of health checks (start to verdict or abandonment): counts per
  // bucket of kHealthCheckBucketsMs (not cumulative), the last one beyond.
  std::array<uint64_t, kHealthCheckBucketsMs.size() + 1> check_buckets{};
  Millis check_duration_sum{0};
};

// What the core knows of backups (SchedulerCore::backups()), for /health
// and /metrics. Times are the core's Millis.
struct BackupProgress {
  bool enabled = false;
  std::optional<uint64_t> in_flight;  // id of the backup under way
  std::optional<Millis> in_flight_since;
  uint64_t successes = 0;
  uint64_t failures = 0;
  std::optional<Millis> last_attempt_at;  // start of the last backup
  bool last_failed = false;
  std::string last_error;  // of the last failure ("" once one succeeds)
  // The last backup written and verified.
  std::optional<Millis> last_success_at;
  uint64_t last_revision = 0;
  uint64_t last_size_bytes = 0;
  std::string last_file;
  bool operator==(const BackupProgress&) const = default;
};

}  // namespace etcdmesos::core
