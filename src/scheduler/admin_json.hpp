// JSON documents of the admin HTTP interface, built from a snapshot of the
// scheduler's state. Pure functions: no I/O.
#pragma once

#include "core/scheduler_core.hpp"
#include "scheduler/recent.hpp"

#include <optional>
#include <string>
#include <vector>

namespace etcdmesos::scheduler {

// Backups to -backup-dir (scheduler/backup.hpp); all zero/empty without one.
struct BackupStatus {
  bool enabled = false;
  std::string dir;
  bool in_progress = false;
  // The last backup written and verified: when (Unix seconds), its size
  // (bytes), the etcd revision it holds, and its file name.
  std::optional<double> last_success_unix;
  uint64_t last_size_bytes = 0;
  uint64_t last_revision = 0;
  std::string last_file;
  uint64_t successes = 0;
  uint64_t failures = 0;
  std::string last_error;                 // of the last attempt ("" when it succeeded)
  std::optional<double> next_in_seconds;  // the next scheduled one
  // A scheduled backup is due but may not start now: why (the cluster is
  // unhealthy, a reseed runs...). "" otherwise.
  std::string waiting;
};

struct AdminSnapshot {
  std::vector<core::Member> members;
  core::Stats stats;
  // For GET /metrics (scheduler/metrics.hpp): the core's cumulative counts,
  // its reconcile gate, and whether it persists and can write now.
  core::Counters counters;
  core::ReconcilePhase reconcile_phase = core::ReconcilePhase::kIdle;
  bool persist_enabled = false;
  bool persist_writable = false;
  // Artifacts the artifact server sent (GETs of a binary): launches on agents
  // whose fetcher cache already holds them add none.
  uint64_t artifact_downloads = 0;
  std::optional<core::HealthResult> health;
  std::string framework_id;  // "" until the master assigned one
  bool subscribed = false;
  // The scheduler's own state (core/scheduler_core.hpp).
  std::string plan;  // what the last reconcile pass decided, or why it waits
  bool locked = false;
  bool total_loss = false;  // the lock is the total-loss one (else: reseeds halted)
  std::string lock_reason;
  // The scheduler sees no majority, but the evidence says one may serve.
  bool partitioned = false;
  std::string partition_reason;
  bool livelocked = false;
  double livelock_seconds = 0;
  std::string livelock_reason;
  bool auto_reseed = true;
  std::optional<double> reseed_in_seconds;  // when an automatic reseed starts
  std::string reseed;                       // the running reseed's step ("" = none)
  std::string last_reseed;                  // how the last reseed ended
  std::string restore;                      // a restore due or under way ("" = none; issue 14)
  std::string last_restore;                 // how the last restore ended
  std::string reconcile;                    // the reconcile gate (one line)
  std::string persistence;                  // "off", "ok", or why it cannot persist
  // "leader", or "standby" while another scheduler leads (-zk-framework-persist).
  std::string role = "leader";
  std::string leader;  // the leader's admin address "host:port" ("" when unknown)
  // This scheduler's build (common/version.hpp): "0.1.0" and "12d0196".
  std::string version;
  std::string git_commit;
  // The cluster size the scheduler maintains (-cluster-size, or the last
  // POST /cluster-size).
  std::size_t cluster_size = 0;
  // A size an operator asked for that is being written to ZooKeeper.
  std::optional<std::size_t> resize_pending;
  BackupStatus backup;
  // The last health checks and notable events, oldest first
  // (scheduler/recent.hpp): the web page's timeline and event list.
  std::vector<CheckRecord> checks;
  std::vector<EventRecord> events;
};

// [{"name","host","peer_port","client_port","peer_url","client_url","agent_id","task_id",
//   "state"}] — members that are running or starting.
std::string members_json(const AdminSnapshot& snapshot);
// {"running_servers",...,"artifact_downloads",
//  "healthy":0|1,"livelocked":0|1,"locked":0|1,"reseeding":0|1}
std::string stats_json(const AdminSnapshot& snapshot);
// The last health check with its per-member breakdown (or {"healthy":false,
// "reason":"no health check has completed yet"}), plus "scheduler": the
// plan, lock, livelock and reseed state, and its version and git commit; "tasks": the members the
// scheduler runs, as in members_json; "checks": the last health checks
// [{"time","healthy","reason","duration_seconds"}]; "events": the last
// notable events [{"time","level","text"}] (times in Unix seconds, oldest
// first).
std::string health_json(const AdminSnapshot& snapshot);
// {"role":"standby","leader":"host:port"}: what a standby answers to every
// admin request.
std::string standby_json(const AdminSnapshot& snapshot);

}  // namespace etcdmesos::scheduler
