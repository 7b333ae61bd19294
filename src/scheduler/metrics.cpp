#include "scheduler/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <array>
#include <map>
#include <utility>
#include <vector>

namespace etcdmesos::scheduler {

namespace {

using prometheus::Labels;
using prometheus::Registry;

constexpr std::string_view kPrefix = "etcd_mesos_";

double as_double(bool b) {
  return b ? 1.0 : 0.0;
}

double as_double(uint64_t n) {
  return static_cast<double>(n);
}

prometheus::Family<prometheus::Gauge>& gauge_family(Registry& r, std::string_view name,
                                                    const std::string& help) {
  return prometheus::BuildGauge()
      .Name(std::string(kPrefix) + std::string(name))
      .Help(help)
      .Register(r);
}

void gauge(Registry& r, std::string_view name, const std::string& help, double value) {
  gauge_family(r, name, help).Add({}).Set(value);
}

prometheus::Family<prometheus::Counter>& counter_family(Registry& r, std::string_view name,
                                                        const std::string& help) {
  return prometheus::BuildCounter()
      .Name(std::string(kPrefix) + std::string(name))
      .Help(help)
      .Register(r);
}

void counter(Registry& r, std::string_view name, const std::string& help, uint64_t value) {
  counter_family(r, name, help).Add({}).Increment(as_double(value));
}

// A counter by one label whose values are a fixed set: every value gets a
// series from the start (0 until it happens); a key outside the set (none
// is expected) adds to "other".
template <std::size_t N>
void labelled_counter(Registry& r, std::string_view name, const std::string& help,
                      const std::string& label, const std::array<const char*, N>& values,
                      const std::map<std::string, uint64_t>& counts) {
  auto& family = counter_family(r, name, help);
  uint64_t other = 0;
  for (const auto& entry : counts) {
    // Not a structured binding: clang 14 (the fuzz build) cannot capture one.
    const std::string& key = entry.first;
    const bool known =
        std::any_of(values.begin(), values.end(), [&key](const char* v) { return key == v; });
    other += known ? 0 : entry.second;
  }
  for (const char* value : values) {
    const auto it = counts.find(value);
    const uint64_t count =
        (it == counts.end() ? 0 : it->second) + (std::string_view(value) == "other" ? other : 0);
    family.Add({{label, value}}).Increment(as_double(count));
  }
  if (other > 0 && std::none_of(values.begin(), values.end(),
                                [](const char* v) { return std::string_view(v) == "other"; })) {
    family.Add({{label, "other"}}).Increment(as_double(other));
  }
}

void add_members(Registry& r, const AdminSnapshot& s) {
  uint64_t nospace = 0;
  if (s.health) {
    for (const auto& a : s.health->alarms) {
      nospace += a.alarm == "NOSPACE" ? 1 : 0;
    }
  }
  auto& up = gauge_family(r, "member_up",
                          "Whether the member answered the last health check (1) or not (0).");
  auto& index = gauge_family(r, "member_raft_index",
                             "The member's raft commit index as the last health check read it.");
  auto& term = gauge_family(r, "member_raft_term",
                            "The member's raft term as the last health check read it.");
  auto& leader = gauge_family(r, "member_leader",
                              "Whether the member was the raft leader at the last health check.");
  auto& db_size = gauge_family(r, "member_db_size_bytes",
                               "The size of the member's backend database, in bytes.");
  uint64_t healthy = 0;
  for (const auto& m : s.members) {
    const Labels labels{{"name", m.name}, {"host", m.host}, {"agent", m.agent_id}};
    const core::MemberHealth* seen = nullptr;
    if (s.health) {
      for (const auto& h : s.health->members) {
        seen = h.name == m.name && h.reachable ? &h : seen;
      }
    }
    up.Add(labels).Set(as_double(seen != nullptr));
    if (seen == nullptr) {
      continue;
    }
    healthy += seen->leader != 0 ? 1 : 0;
    index.Add(labels).Set(as_double(seen->raft_index));
    term.Add(labels).Set(as_double(seen->raft_term));
    leader.Add(labels).Set(as_double(seen->member_id != 0 && seen->member_id == seen->leader));
    db_size.Add(labels).Set(as_double(seen->db_size_bytes));
  }
  gauge(r, "members_desired", "The cluster size the scheduler maintains.",
        as_double(uint64_t{s.cluster_size}));
  gauge(r, "members_running", "Members whose task Mesos reports running.",
        as_double(s.stats.running_servers));
  gauge(r, "members_healthy",
        "Members the scheduler runs that answered the last health check naming a leader.",
        as_double(healthy));
  gauge(r, "nospace_alarms", "Members with a NOSPACE alarm as the last health check read them.",
        as_double(nospace));
}

void add_state(Registry& r, const AdminSnapshot& s) {
  gauge(r, "cluster_healthy", "Whether the last health check passed (1) or not (0).",
        as_double(s.stats.healthy));
  gauge(r, "scheduler_leader",
        "Whether this scheduler leads (1); a standby answers 503 instead of metrics.",
        as_double(s.role == "leader"));
  gauge(r, "subscribed", "Whether the scheduler is subscribed to the Mesos master.",
        as_double(s.subscribed));
  gauge(r, "livelocked", "Whether the cluster has lost its majority (livelock).",
        as_double(s.livelocked));
  gauge(r, "livelock_seconds", "How long the current livelock has lasted, in seconds (0: none).",
        s.livelocked ? s.livelock_seconds : 0.0);
  gauge(r, "locked", "Whether the scheduler is locked (total loss, or reseeds halted).",
        as_double(s.locked));
  gauge(r, "partitioned", "Whether the scheduler is cut off from members that may still serve.",
        as_double(s.partitioned));
  gauge(r, "reseeding", "Whether a reseed is under way.", as_double(!s.reseed.empty()));
  auto& reconcile =
      gauge_family(r, "reconciliation_state",
                   "The task reconciliation gate: 1 for the current state, 0 for the others.");
  constexpr std::array<std::pair<core::ReconcilePhase, const char*>, 4> kPhases{{
      {core::ReconcilePhase::kIdle, "idle"},
      {core::ReconcilePhase::kWaiting, "waiting"},
      {core::ReconcilePhase::kInSync, "in_sync"},
      {core::ReconcilePhase::kFailed, "failed"},
  }};
  for (const auto& [phase, name] : kPhases) {
    reconcile.Add({{"state", name}}).Set(as_double(s.reconcile_phase == phase));
  }
  gauge(r, "persistence_enabled", "Whether the scheduler persists its state in ZooKeeper.",
        as_double(s.persist_enabled));
  gauge(r, "persistence_writable",
        "Whether new members may be launched as far as persistence is concerned (1 without it).",
        as_double(!s.persist_enabled || s.persist_writable));
}

void add_counters(Registry& r, const AdminSnapshot& s) {
  const auto& c = s.counters;
  counter(r, "members_launched_total", "Member tasks launched.", s.stats.launched_servers);
  counter(r, "members_failed_total", "Members lost, crashed or timed out while launching.",
          s.stats.failed_servers);
  labelled_counter(r, "launches_total", "Launched members by how their launch ended.", "result",
                   core::kLaunchResults, c.launches);
  counter(r, "replacements_total", "Members launched in place of a member that failed.",
          c.replacements);
  counter(r, "livelocks_total", "Times the cluster lost its majority.", s.stats.cluster_livelocks);
  counter(r, "reseeds_started_total", "Reseeds started.", s.stats.cluster_reseeds);
  labelled_counter(r, "reseeds_total", "Reseeds ended, by outcome.", "outcome",
                   core::kReseedOutcomes, c.reseeds);
  counter(r, "offers_received_total", "Resource offers received from Mesos.", c.offers_received);
  counter(r, "offers_declined_total", "Resource offers declined.", c.offers_declined);
  counter(r, "health_checks_total", "Health checks ended (a verdict, or no answer in time).",
          c.health_checks);
  labelled_counter(r, "health_check_failures_total", "Failed health checks, by reason.", "reason",
                   core::kHealthFailureClasses, c.health_failures);
  labelled_counter(r, "persistence_errors_total",
                   "Failed writes to ZooKeeper, by what was written.", "write",
                   core::kPersistWrites, c.persistence_errors);
  counter(r, "artifact_downloads_total", "Artifacts the artifact server sent to agents.",
          s.artifact_downloads);

  prometheus::Histogram::BucketBoundaries bounds;
  std::vector<double> increments;
  for (std::size_t i = 0; i < core::kHealthCheckBucketsMs.size(); ++i) {
    bounds.push_back(static_cast<double>(core::kHealthCheckBucketsMs[i]) / 1000.0);
    increments.push_back(as_double(c.check_buckets[i]));
  }
  increments.push_back(as_double(c.check_buckets.back()));
  prometheus::BuildHistogram()
      .Name(std::string(kPrefix) + "health_check_duration_seconds")
      .Help("How long health checks took, from start to verdict or abandonment, in seconds.")
      .Register(r)
      .Add({}, bounds)
      .ObserveMultiple(increments, static_cast<double>(c.check_duration_sum.count()) / 1000.0);
}

void add_backups(Registry& r, const BackupStatus& b) {
  gauge(r, "backup_enabled", "Whether backups are configured (-backup-dir).", as_double(b.enabled));
  gauge(r, "backup_in_progress", "Whether a backup is being taken now.", as_double(b.in_progress));
  if (b.last_success_unix) {
    gauge(r, "backup_last_success_timestamp_seconds",
          "When the last good backup was written, in Unix seconds (absent before the first).",
          *b.last_success_unix);
  }
  gauge(r, "backup_last_size_bytes", "The size of the last good backup, in bytes.",
        as_double(b.last_size_bytes));
  gauge(r, "backup_last_revision", "The etcd revision the last good backup holds.",
        as_double(b.last_revision));
  counter(r, "backups_total", "Backups written and verified.", b.successes);
  counter(r, "backup_failures_total", "Backups that failed.", b.failures);
}

}  // namespace

std::string metrics_text(const AdminSnapshot& snapshot) {
  Registry registry;
  add_members(registry, snapshot);
  add_state(registry, snapshot);
  add_counters(registry, snapshot);
  add_backups(registry, snapshot.backup);
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

}  // namespace etcdmesos::scheduler
