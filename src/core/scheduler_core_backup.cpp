// Backups (issue 14, -backup-dir): when the scheduler takes an etcd snapshot.
// The shell takes it (scheduler/backup.cpp) and answers with BackupDone.
// Rules:
//   - never two at once: a backup is started only when none is under way,
//     and the shell always answers (it bounds each by a deadline);
//   - only from a cluster the last fresh health check (one that started
//     after the last membership change) found healthy, while subscribed, and
//     never during a reseed, a livelock or a lock: a snapshot of a cluster
//     without a working majority may be of a minority's stale data;
//   - scheduled: the first as soon as that holds, then backup_interval after
//     the start of the last attempt; after a failure min(backup_interval,
//     backup_retry) after it instead. A due backup that may not start waits
//     (it is not a failure) and starts on the first tick that allows it;
//   - an operator's request starts one at once or is refused with the reason
//     (why_not_backup), and the schedule counts from it;
//   - it changes nothing in the cluster, so nothing else waits for it, and a
//     replacement does not stop backups: the next fresh healthy check of the
//     new membership lets them go on.
#include "core/scheduler_core.hpp"

#include <algorithm>

namespace etcdmesos::core {

namespace {

// The client URLs of the running members the verdict found reachable, those
// that do not lead first: a snapshot streams the whole database, and the
// leader has the most to do besides.
std::vector<std::string> backup_sources(const HealthResult& fresh,
                                        const std::vector<Member>& members) {
  uint64_t leader = 0;
  for (const auto& m : fresh.members) {
    if (m.reachable && m.leader != 0) {
      leader = m.leader;
    }
  }
  std::string leader_name;
  for (const auto& listed : fresh.membership) {
    if (listed.id == leader) {
      leader_name = listed.name;
    }
  }
  std::vector<const Member*> sources;
  for (const auto& m : members) {
    const bool reachable =
        std::any_of(fresh.members.begin(), fresh.members.end(),
                    [&](const MemberHealth& h) { return h.name == m.name && h.reachable; });
    if (reachable && m.state == TaskState::kRunning) {
      sources.push_back(&m);
    }
  }
  std::stable_partition(sources.begin(), sources.end(),
                        [&](const Member* m) { return m->name != leader_name; });
  std::vector<std::string> urls;
  for (const Member* m : sources) {
    urls.push_back(m->client_url());
  }
  return urls;
}

}  // namespace

std::optional<std::string> SchedulerCore::why_not_backup() const {
  if (config_.backup_interval <= Millis{0}) {
    return std::string("backups are off: the scheduler was started without -backup-dir");
  }
  if (backup_.in_flight) {
    return "backup " + std::to_string(*backup_.in_flight) + " is already under way (started " +
           describe_duration(last_now_ - backup_.in_flight_since.value_or(last_now_)) + " ago)";
  }
  if (locked_) {
    return "every member is lost (total loss): there is no cluster to back up";
  }
  if (reseed_halt_) {
    return "the scheduler is locked: " + *reseed_halt_;
  }
  if (reseed_) {
    return "a reseed is under way: " + reseed_status();
  }
  if (!subscribed_) {
    return std::string(
        "not subscribed to the Mesos master: health checks, which must vouch for the cluster, "
        "wait for it");
  }
  if (livelock_since_) {
    return "the cluster has lost its working majority: " + livelock_reason_;
  }
  if (!fresh_) {
    return std::string(
        "no health check has finished since the last membership change; try again in a few "
        "seconds");
  }
  if (!fresh_->healthy) {
    return "the last health check found the cluster unhealthy: " + fresh_->reason;
  }
  if (backup_sources(*fresh_, members_).empty()) {
    return std::string("no running member answered the last health check");
  }
  return std::nullopt;
}

std::optional<Millis> SchedulerCore::next_backup_at() const {
  if (config_.backup_interval <= Millis{0} || backup_.in_flight) {
    return std::nullopt;
  }
  if (!backup_.last_attempt_at) {
    return Millis{0};  // the first one as soon as the cluster allows
  }
  const Millis wait = backup_.last_failed ? std::min(config_.backup_interval, config_.backup_retry)
                                          : config_.backup_interval;
  return *backup_.last_attempt_at + wait;
}

void SchedulerCore::maybe_backup(Millis now, Effects& out) {
  const auto due = next_backup_at();
  if (!due || now < *due || why_not_backup()) {
    return;
  }
  start_backup(now, "scheduled", out);
}

void SchedulerCore::start_backup(Millis now, std::string why, Effects& out) {
  const uint64_t id = next_backup_id_++;
  backup_.in_flight = id;
  backup_.in_flight_since = now;
  backup_.last_attempt_at = now;
  out.push_back(TakeBackup{id, backup_sources(*fresh_, members_), std::move(why)});
}

void SchedulerCore::on(const OperatorBackup&, Millis now, Effects& out) {
  if (why_not_backup()) {
    return;  // the shell asked first and answered the operator
  }
  start_backup(now, "operator request", out);
}

void SchedulerCore::on(const BackupDone& e, Millis now, Effects&) {
  if (!backup_.in_flight || *backup_.in_flight != e.id) {
    return;  // not the backup under way
  }
  backup_.in_flight.reset();
  backup_.in_flight_since.reset();
  backup_.last_failed = !e.ok;
  if (!e.ok) {
    ++backup_.failures;
    backup_.last_error = e.error;
    return;
  }
  ++backup_.successes;
  backup_.last_error.clear();
  backup_.last_success_at = now;
  backup_.last_revision = e.revision;
  backup_.last_size_bytes = e.size_bytes;
  backup_.last_file = e.file;
}

}  // namespace etcdmesos::core
