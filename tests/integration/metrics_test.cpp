// End to end: GET /metrics of a scheduler running a real etcd cluster (the
// dev cluster, or a real Mesos with ETCDMESOS_MESOS=real) parses with
// Prometheus' own parser, and its values match the cluster: what the
// scheduler's /members and /stats say, and what etcd's maintenance status
// says of each member. A killed member's replacement shows in the counters
// and in the per-member series, and the killed member's series go.
#include "support/member_checks.hpp"
#include "support/metrics_parse.hpp"
#include "support/stack.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <csignal>
#include <cstdlib>

namespace etcdmesos::testing {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

constexpr auto kBringUp = 90s;
constexpr auto kRepair = 90s;
// Each health check (one a second) adds a few raft entries (the probe write,
// the alarm read): the index a scrape shows may trail etcd's by that much.
constexpr double kRaftIndexMargin = 50;

ParsedMetrics scrape(LocalStack& stack) {
  auto res = stack.admin("/metrics");
  if (!res || res->status != 200) {
    ParsedMetrics failed;
    failed.error = res ? "GET /metrics answered " + std::to_string(res->status) : "no answer";
    return failed;
  }
  return parse_metrics(res->body, stack.work_dir());
}

// Every member of /members has its series, all of them up: the scrape
// reflects a health check of the current members.
bool all_members_up(const ParsedMetrics& m, const json::array& members) {
  if (!m.ok() || m.samples("etcd_mesos_member_up").size() != members.size()) {
    return false;
  }
  for (const auto& member : members) {
    if (m.value("etcd_mesos_member_up", {{"name", str(member, "name")}}) != 1.0) {
      return false;
    }
  }
  return true;
}

std::optional<double> decimal_field(const json::object& o, const char* key) {
  if (!o.contains(key) || !o.at(key).is_string()) {
    return std::nullopt;
  }
  return std::strtod(std::string(o.at(key).as_string()).c_str(), nullptr);
}

// raftIndex and dbSize from etcd's own maintenance status of the member.
std::optional<std::pair<double, double>> etcd_status(const json::value& member) {
  auto res = etcd_post(str(member, "client_url"), "/v3/maintenance/status", "{}");
  if (!res || res->status != 200) {
    return std::nullopt;
  }
  boost::system::error_code ec;
  auto doc = json::parse(res->body, ec);
  if (ec || !doc.is_object()) {
    return std::nullopt;
  }
  auto index = decimal_field(doc.as_object(), "raftIndex");
  auto db = decimal_field(doc.as_object(), "dbSize");
  if (!index || !db) {
    return std::nullopt;
  }
  return std::make_pair(*index, *db);
}

void expect_members_match_etcd(const ParsedMetrics& m, const json::array& members) {
  int leaders = 0;
  for (const auto& member : members) {
    const MetricLabels labels{{"name", str(member, "name")},
                              {"host", str(member, "host")},
                              {"agent", str(member, "agent_id")}};
    const auto index = m.value("etcd_mesos_member_raft_index", labels);
    const auto term = m.value("etcd_mesos_member_raft_term", labels);
    const auto db = m.value("etcd_mesos_member_db_size_bytes", labels);
    const auto leader = m.value("etcd_mesos_member_leader", labels);
    ASSERT_TRUE(index && term && db && leader) << str(member, "name");
    leaders += *leader == 1.0 ? 1 : 0;
    EXPECT_GT(*index, 0) << str(member, "name");
    EXPECT_GT(*term, 0) << str(member, "name");
    EXPECT_GT(*db, 0) << str(member, "name");
    const auto etcd = etcd_status(member);
    ASSERT_TRUE(etcd) << "etcd's maintenance status of " << str(member, "name");
    // Scraped first, so etcd's index can only be as high or higher.
    EXPECT_LE(*index, etcd->first) << str(member, "name");
    EXPECT_GE(*index, etcd->first - kRaftIndexMargin) << str(member, "name");
  }
  EXPECT_EQ(leaders, 1) << "exactly one member leads";
}

TEST(Metrics, ValuesMatchTheClusterAndFollowAReplacement) {
  StackOptions o;
  o.agents = 4;
  o.scheduler_args = {"-etcd-restart-attempts=0"};
  LocalStack stack(o);
  ASSERT_TRUE(wait_until(
      [&] {
        auto members = stack.members();
        return stack.healthy_with(3) && etcd_lists_exactly(members, names_of(members));
      },
      kBringUp))
      << stack.logs();

  ParsedMetrics m;
  json::array members;
  ASSERT_TRUE(wait_until(
      [&] {
        members = stack.members();
        m = scrape(stack);
        return all_members_up(m, members) && m.value("etcd_mesos_members_healthy") == 3.0;
      },
      30s))
      << (m.ok() ? stack.admin("/metrics")->body : m.error) << stack.logs();
  EXPECT_EQ(m.value("etcd_mesos_members_desired"), 3.0);
  EXPECT_EQ(m.value("etcd_mesos_members_running"), 3.0);
  EXPECT_EQ(m.value("etcd_mesos_cluster_healthy"), 1.0);
  EXPECT_EQ(m.value("etcd_mesos_scheduler_leader"), 1.0);
  EXPECT_EQ(m.value("etcd_mesos_members_launched_total"), 3.0);
  EXPECT_EQ(m.value("etcd_mesos_launches_total", {{"result", "running"}}), 3.0);
  EXPECT_EQ(m.value("etcd_mesos_replacements_total"), 0.0);
  EXPECT_GE(m.value("etcd_mesos_offers_received_total").value_or(0), 3.0);
  EXPECT_GE(m.value("etcd_mesos_health_checks_total").value_or(0), 1.0);
  EXPECT_EQ(m.value("etcd_mesos_health_check_duration_seconds_count"),
            m.value("etcd_mesos_health_checks_total"));
  EXPECT_EQ(m.value("etcd_mesos_livelocked"), 0.0);
  EXPECT_EQ(m.value("etcd_mesos_locked"), 0.0);
  EXPECT_EQ(m.value("etcd_mesos_nospace_alarms"), 0.0);
  // The same counts as /stats, kept for compatibility.
  EXPECT_EQ(m.value("etcd_mesos_artifact_downloads_total"), stat(stack, "artifact_downloads"));
  expect_members_match_etcd(m, members);

  const auto victim = members[1];
  const std::string victim_name = str(victim, "name");
  const double checks_before = m.value("etcd_mesos_health_checks_total").value_or(0);
  ASSERT_TRUE(signal_member(victim, SIGKILL));
  ASSERT_TRUE(wait_until(
      [&] {
        members = stack.members();
        return !names_of(members).contains(victim_name) && stack.healthy_with(3) &&
               etcd_lists_exactly(members, names_of(members));
      },
      kRepair))
      << stack.logs();
  ASSERT_TRUE(wait_until(
      [&] {
        members = stack.members();
        m = scrape(stack);
        return all_members_up(m, members) && m.value("etcd_mesos_members_healthy") == 3.0;
      },
      30s))
      << (m.ok() ? stack.admin("/metrics")->body : m.error) << stack.logs();
  EXPECT_EQ(m.value("etcd_mesos_replacements_total"), 1.0);
  EXPECT_EQ(m.value("etcd_mesos_members_failed_total"), 1.0);
  EXPECT_EQ(m.value("etcd_mesos_members_launched_total"), 4.0);
  EXPECT_EQ(m.value("etcd_mesos_launches_total", {{"result", "running"}}), 4.0);
  EXPECT_EQ(m.value("etcd_mesos_members_running"), 3.0);
  EXPECT_GT(m.value("etcd_mesos_health_checks_total").value_or(0), checks_before);
  // The killed member's series are gone, its replacement's are there.
  for (const auto& family : m.families) {
    for (const auto& sample : family.samples) {
      auto it = sample.labels.find("name");
      EXPECT_TRUE(it == sample.labels.end() || it->second != victim_name) << sample.name;
    }
  }
  expect_members_match_etcd(m, members);
}

}  // namespace
}  // namespace etcdmesos::testing
