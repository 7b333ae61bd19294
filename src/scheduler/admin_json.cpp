#include "scheduler/admin_json.hpp"

#include <boost/json.hpp>

namespace etcdmesos::scheduler {

namespace json = boost::json;

namespace {

json::array member_list(const AdminSnapshot& snapshot) {
  json::array out;
  for (const auto& m : snapshot.members) {
    out.push_back(json::object{
        {"name", m.name},
        {"host", m.host},
        {"peer_port", m.peer_port},
        {"client_port", m.client_port},
        {"peer_url", m.peer_url()},
        {"client_url", m.client_url()},
        {"agent_id", m.agent_id},
        {"task_id", m.task_id},
        {"state", core::to_string(m.state)},
    });
  }
  return out;
}

}  // namespace

std::string members_json(const AdminSnapshot& snapshot) {
  return json::serialize(member_list(snapshot));
}

std::string stats_json(const AdminSnapshot& snapshot) {
  const auto& s = snapshot.stats;
  // Members whose backend reached its quota, as the last check saw them.
  int64_t nospace = 0;
  if (snapshot.health) {
    for (const auto& a : snapshot.health->alarms) {
      nospace += a.alarm == "NOSPACE" ? 1 : 0;
    }
  }
  return json::serialize(json::object{
      {"running_servers", s.running_servers},
      {"launched_servers", s.launched_servers},
      {"failed_servers", s.failed_servers},
      {"cluster_livelocks", s.cluster_livelocks},
      {"cluster_reseeds", s.cluster_reseeds},
      {"artifact_downloads", snapshot.artifact_downloads},
      {"healthy", s.healthy ? 1 : 0},
      {"livelocked", snapshot.livelocked ? 1 : 0},
      {"locked", snapshot.locked ? 1 : 0},
      {"reseeding", snapshot.reseed.empty() ? 0 : 1},
      {"nospace_alarms", nospace},
  });
}

namespace {

json::object scheduler_state(const AdminSnapshot& s) {
  json::object out{{"plan", s.plan},
                   {"role", s.role},
                   {"framework_id", s.framework_id},
                   {"subscribed", s.subscribed},
                   {"reconcile", s.reconcile},
                   {"persistence", s.persistence},
                   {"locked", s.locked},
                   {"livelocked", s.livelocked},
                   {"partitioned", s.partitioned},
                   {"auto_reseed", s.auto_reseed},
                   {"cluster_size", s.cluster_size},
                   {"version", s.version},
                   {"git_commit", s.git_commit}};
  if (s.resize_pending) {
    out["cluster_size_pending"] = *s.resize_pending;
  }
  if (s.locked) {
    out["lock_reason"] = s.lock_reason;
    out["lock"] = s.total_loss ? "total loss" : "reseeds halted";
  }
  if (s.partitioned) {
    out["partition_reason"] = s.partition_reason;
  }
  if (s.livelocked) {
    out["livelock_seconds"] = s.livelock_seconds;
    out["livelock_reason"] = s.livelock_reason;
  }
  if (s.reseed_in_seconds) {
    out["reseed_in_seconds"] = *s.reseed_in_seconds;
  }
  if (!s.reseed.empty()) {
    out["reseed"] = s.reseed;
  }
  if (!s.last_reseed.empty()) {
    out["last_reseed"] = s.last_reseed;
  }
  out["cluster_size"] = s.cluster_size;
  if (!s.restore.empty()) {
    out["restore"] = s.restore;
  }
  if (!s.last_restore.empty()) {
    out["last_restore"] = s.last_restore;
  }
  return out;
}

// What the web page shows besides the last check: the members the scheduler
// runs, the timeline of checks and the recent events.
void add_page_fields(const AdminSnapshot& s, json::object& out) {
  out["tasks"] = member_list(s);
  json::array checks;
  for (const auto& c : s.checks) {
    checks.push_back(json::object{{"time", c.unix_time},
                                  {"healthy", c.healthy},
                                  {"reason", c.reason},
                                  {"duration_seconds", c.duration_seconds}});
  }
  out["checks"] = std::move(checks);
  json::array events;
  for (const auto& e : s.events) {
    events.push_back(json::object{{"time", e.unix_time}, {"level", e.level}, {"text", e.text}});
  }
  out["events"] = std::move(events);
}

// Backups to -backup-dir (docs/administration.md, "Backups").
json::object backup_state(const BackupStatus& b) {
  json::object out{{"enabled", b.enabled}};
  if (!b.enabled) {
    return out;
  }
  out["dir"] = b.dir;
  out["in_progress"] = b.in_progress;
  out["successes"] = b.successes;
  out["failures"] = b.failures;
  if (b.last_success_unix) {
    out["last_success_unix"] = *b.last_success_unix;
    out["last_file"] = b.last_file;
    out["last_revision"] = b.last_revision;
    out["last_size_bytes"] = b.last_size_bytes;
  }
  if (!b.last_error.empty()) {
    out["last_error"] = b.last_error;
  }
  if (b.next_in_seconds) {
    out["next_in_seconds"] = *b.next_in_seconds;
  }
  if (!b.waiting.empty()) {
    out["waiting"] = b.waiting;
  }
  return out;
}

}  // namespace

std::string health_json(const AdminSnapshot& snapshot) {
  if (!snapshot.health) {
    json::object out{{"healthy", false},
                     {"reason", "no health check has completed yet"},
                     {"scheduler", scheduler_state(snapshot)},
                     {"backup", backup_state(snapshot.backup)}};
    add_page_fields(snapshot, out);
    return json::serialize(out);
  }
  const auto& h = *snapshot.health;
  json::array members;
  for (const auto& m : h.members) {
    json::object entry{{"name", m.name}, {"reachable", m.reachable}};
    if (m.reachable) {
      entry["leader"] = std::to_string(m.leader);
      entry["raft_index"] = m.raft_index;
      entry["raft_term"] = m.raft_term;
      entry["db_size"] = m.db_size_bytes;
      entry["is_leader"] = m.member_id != 0 && m.member_id == m.leader;
    }
    if (!m.error.empty()) {
      entry["error"] = m.error;
    }
    members.push_back(std::move(entry));
  }
  json::object out{{"healthy", h.healthy}, {"members", std::move(members)}};
  if (!h.reason.empty()) {
    out["reason"] = h.reason;
  }
  // etcd's alarms as the last check read them ("NOSPACE": a full backend).
  json::array alarms;
  for (const auto& a : h.alarms) {
    alarms.push_back(json::object{{"member_id", std::to_string(a.member_id)}, {"alarm", a.alarm}});
  }
  out["alarms"] = std::move(alarms);
  out["scheduler"] = scheduler_state(snapshot);
  add_page_fields(snapshot, out);
  out["backup"] = backup_state(snapshot.backup);
  return json::serialize(out);
}

std::string standby_json(const AdminSnapshot& snapshot) {
  return json::serialize(json::object{{"role", "standby"}, {"leader", snapshot.leader}});
}

}  // namespace etcdmesos::scheduler
