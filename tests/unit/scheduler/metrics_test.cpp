// GET /metrics: the Prometheus text built from a snapshot. Names, labels,
// units and the HELP/TYPE lines are checked on the text itself, and the
// whole exposition is parsed by Prometheus' own Python parser.
#include "scheduler/metrics.hpp"
#include "scheduler/admin_server.hpp"

#include "support/metrics_parse.hpp"
#include "support/processes.hpp"

#include <gtest/gtest.h>

#include <set>
#include <sstream>

namespace etcdmesos::scheduler {
namespace {

using testing::parse_metrics;

// Two members, etcd-1 leading and answering, etcd-2 starting and silent;
// counters as a core that ran for a while would have them.
AdminSnapshot busy_snapshot() {
  AdminSnapshot s;
  s.members = {core::Member{"etcd-1", "etcd-1-aa", "S0", "127.0.0.2", 31000, 31001,
                            core::TaskState::kRunning},
               core::Member{"etcd-2", "etcd-2-bb", "S1", "127.0.0.3", 31002, 31003,
                            core::TaskState::kStarting}};
  s.cluster_size = 3;
  s.stats.running_servers = 1;
  s.stats.launched_servers = 4;
  s.stats.failed_servers = 2;
  s.stats.cluster_livelocks = 1;
  s.stats.cluster_reseeds = 1;
  s.stats.healthy = true;
  s.artifact_downloads = 6;
  core::HealthResult h;
  h.healthy = true;
  core::MemberHealth m1{"etcd-1", true, 7, 42, 2, ""};
  m1.member_id = 7;
  m1.db_size_bytes = 20480;
  h.members = {m1, core::MemberHealth{"etcd-2", false, 0, 0, 0, "timed out"},
               // A member the scheduler no longer runs: no series.
               core::MemberHealth{"etcd-0", true, 7, 40, 2, ""}};
  h.alarms = {core::MemberAlarm{7, "NOSPACE"}};
  s.health = h;
  s.livelocked = true;
  s.livelock_seconds = 12.5;
  s.reseed = "ranking";
  s.reconcile_phase = core::ReconcilePhase::kInSync;
  s.persist_enabled = true;
  s.persist_writable = true;
  auto& c = s.counters;
  c.offers_received = 10;
  c.offers_declined = 6;
  c.launches = {{"running", 3}, {"timed_out", 1}};
  c.replacements = 1;
  c.reseeds = {{"done", 1}};
  c.health_checks = 5;
  c.health_failures = {{"no_quorum", 2}, {"timeout", 1}};
  c.persistence_errors = {{"task", 3}};
  c.check_buckets[0] = 1;                      // <= 5 ms
  c.check_buckets[8] = 3;                      // <= 2.5 s
  c.check_buckets.back() = 1;                  // beyond 10 s
  c.check_duration_sum = core::Millis{17000};  // 17 s
  s.backup.enabled = true;
  s.backup.last_success_unix = 1764800000.5;
  s.backup.last_size_bytes = 123456;
  s.backup.last_revision = 99;
  s.backup.successes = 4;
  s.backup.failures = 1;
  return s;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    out.push_back(line);
  }
  return out;
}

bool has_line(const std::string& text, const std::string& line) {
  for (const auto& l : lines_of(text)) {
    if (l == line) {
      return true;
    }
  }
  return false;
}

TEST(Metrics, EveryFamilyHasHelpAndTypeAndFollowsPrometheusNaming) {
  const auto text = metrics_text(busy_snapshot());
  std::set<std::string> helped;
  std::map<std::string, std::string> typed;
  for (const auto& l : lines_of(text)) {
    if (l.starts_with("# HELP ")) {
      helped.insert(l.substr(7, l.find(' ', 7) - 7));
    } else if (l.starts_with("# TYPE ")) {
      const auto name = l.substr(7, l.find(' ', 7) - 7);
      typed[name] = l.substr(l.rfind(' ') + 1);
    } else if (!l.empty()) {
      EXPECT_TRUE(l.starts_with("etcd_mesos_")) << l;
      EXPECT_EQ(l.find("_ms"), std::string::npos) << "base units only: " << l;
    }
  }
  EXPECT_GE(typed.size(), 40u);
  for (const auto& [name, type] : typed) {
    EXPECT_TRUE(helped.contains(name)) << name;
    EXPECT_TRUE(name.starts_with("etcd_mesos_")) << name;
    EXPECT_EQ(name.ends_with("_total"), type == "counter") << name << " " << type;
  }
  EXPECT_EQ(typed["etcd_mesos_health_check_duration_seconds"], "histogram");
  EXPECT_EQ(typed["etcd_mesos_member_db_size_bytes"], "gauge");
  EXPECT_EQ(typed["etcd_mesos_backup_last_success_timestamp_seconds"], "gauge");
}

TEST(Metrics, PerMemberSeriesCarryNameHostAndAgentForCurrentMembersOnly) {
  const auto text = metrics_text(busy_snapshot());
  const std::string m1 = R"({agent="S0",host="127.0.0.2",name="etcd-1"})";
  const std::string m2 = R"({agent="S1",host="127.0.0.3",name="etcd-2"})";
  EXPECT_TRUE(has_line(text, "etcd_mesos_member_up" + m1 + " 1")) << text;
  EXPECT_TRUE(has_line(text, "etcd_mesos_member_raft_index" + m1 + " 42")) << text;
  EXPECT_TRUE(has_line(text, "etcd_mesos_member_raft_term" + m1 + " 2")) << text;
  EXPECT_TRUE(has_line(text, "etcd_mesos_member_leader" + m1 + " 1")) << text;
  EXPECT_TRUE(has_line(text, "etcd_mesos_member_db_size_bytes" + m1 + " 20480")) << text;
  // A member that did not answer is down, without values it did not report.
  EXPECT_TRUE(has_line(text, "etcd_mesos_member_up" + m2 + " 0")) << text;
  EXPECT_EQ(text.find("etcd_mesos_member_raft_index" + m2), std::string::npos);
  EXPECT_EQ(text.find("etcd-0"), std::string::npos) << "a member no longer run has no series";
}

TEST(Metrics, CountersAndGaugesHoldTheSnapshotsValues) {
  const auto text = metrics_text(busy_snapshot());
  for (const char* line : {
           "etcd_mesos_members_desired 3",
           "etcd_mesos_members_running 1",
           "etcd_mesos_members_healthy 1",
           "etcd_mesos_nospace_alarms 1",
           "etcd_mesos_cluster_healthy 1",
           "etcd_mesos_livelock_seconds 12.5",
           "etcd_mesos_reseeding 1",
           R"(etcd_mesos_reconciliation_state{state="in_sync"} 1)",
           R"(etcd_mesos_reconciliation_state{state="waiting"} 0)",
           "etcd_mesos_persistence_writable 1",
           "etcd_mesos_members_launched_total 4",
           R"(etcd_mesos_launches_total{result="running"} 3)",
           R"(etcd_mesos_launches_total{result="timed_out"} 1)",
           R"(etcd_mesos_launches_total{result="abandoned"} 0)",
           "etcd_mesos_replacements_total 1",
           R"(etcd_mesos_reseeds_total{outcome="done"} 1)",
           R"(etcd_mesos_reseeds_total{outcome="failed"} 0)",
           "etcd_mesos_offers_received_total 10",
           "etcd_mesos_offers_declined_total 6",
           R"(etcd_mesos_health_check_failures_total{reason="no_quorum"} 2)",
           R"(etcd_mesos_health_check_failures_total{reason="timeout"} 1)",
           R"(etcd_mesos_persistence_errors_total{write="task"} 3)",
           "etcd_mesos_artifact_downloads_total 6",
           "etcd_mesos_health_check_duration_seconds_count 5",
           "etcd_mesos_health_check_duration_seconds_sum 17",
           R"(etcd_mesos_health_check_duration_seconds_bucket{le="0.005"} 1)",
           R"(etcd_mesos_health_check_duration_seconds_bucket{le="2.5"} 4)",
           R"(etcd_mesos_health_check_duration_seconds_bucket{le="10"} 4)",
           R"(etcd_mesos_health_check_duration_seconds_bucket{le="+Inf"} 5)",
           "etcd_mesos_backup_last_success_timestamp_seconds 1764800000.5",
           "etcd_mesos_backup_last_size_bytes 123456",
           "etcd_mesos_backups_total 4",
           "etcd_mesos_backup_failures_total 1",
       }) {
    EXPECT_TRUE(has_line(text, line)) << line << "\n" << text;
  }
}

TEST(Metrics, BeforeTheFirstBackupThereIsNoLastSuccessTime) {
  AdminSnapshot s;
  const auto text = metrics_text(s);
  EXPECT_EQ(text.find("backup_last_success_timestamp_seconds"), std::string::npos);
  EXPECT_TRUE(has_line(text, "etcd_mesos_backup_enabled 0"));
  // Every labelled counter has its series from the start.
  EXPECT_TRUE(has_line(text, R"(etcd_mesos_launches_total{result="failed"} 0)"));
  EXPECT_TRUE(has_line(text, R"(etcd_mesos_health_check_failures_total{reason="no_leader"} 0)"));
}

TEST(Metrics, AnUnexpectedLabelValueIsFoldedIntoOther) {
  AdminSnapshot s;
  s.counters.reseeds = {{"done", 1}, {"surprising", 2}};
  const auto text = metrics_text(s);
  EXPECT_TRUE(has_line(text, R"(etcd_mesos_reseeds_total{outcome="other"} 2)")) << text;
  EXPECT_EQ(text.find("surprising"), std::string::npos);
}

TEST(Metrics, PrometheusOwnParserReadsTheExposition) {
  testing::TempDir dir("metrics-parse");
  auto s = busy_snapshot();
  // A label value that needs escaping.
  s.members[0].host = "host \"with\" quotes\\";
  const auto parsed = parse_metrics(metrics_text(s), dir.path());
  ASSERT_TRUE(parsed.ok()) << parsed.error;
  EXPECT_EQ(parsed.value("etcd_mesos_members_desired"), 3.0);
  EXPECT_EQ(parsed.value("etcd_mesos_member_raft_index", {{"name", "etcd-1"}}), 42.0);
  EXPECT_EQ(parsed.value("etcd_mesos_member_up", {{"host", "host \"with\" quotes\\"}}), 1.0);
  EXPECT_EQ(parsed.value("etcd_mesos_replacements_total"), 1.0);
  const auto* histogram = parsed.family("etcd_mesos_health_check_duration_seconds");
  ASSERT_NE(histogram, nullptr);
  EXPECT_EQ(histogram->type, "histogram");
  const auto* launches = parsed.family("etcd_mesos_launches");
  ASSERT_NE(launches, nullptr);
  EXPECT_EQ(launches->type, "counter");
  EXPECT_EQ(launches->samples.size(), core::kLaunchResults.size());
}

TEST(Metrics, TheAdminServerServesThemAsPrometheusTextAndAStandbyDoesNot) {
  auto s = busy_snapshot();
  auto req = io::make_request(io::http::verb::get, "/metrics", io::Endpoint{"127.0.0.1", 23400});
  auto res = AdminServer::route(req, s);
  EXPECT_EQ(res.result(), io::http::status::ok);
  EXPECT_EQ(res[io::http::field::content_type], kMetricsContentType);
  EXPECT_EQ(res.body(), metrics_text(s));
  auto post = io::make_request(io::http::verb::post, "/metrics", io::Endpoint{"127.0.0.1", 23400});
  EXPECT_EQ(AdminServer::route(post, s).result(), io::http::status::method_not_allowed);
  s.role = "standby";
  EXPECT_EQ(AdminServer::route(req, s).result(), io::http::status::service_unavailable);
}

}  // namespace
}  // namespace etcdmesos::scheduler
