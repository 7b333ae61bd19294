// The core's cumulative counters (core::Counters) that GET /metrics exports:
// launches by result, replacements, offers, health checks and their failure
// classes and durations, reseed outcomes, persistence errors.
#include "core/health.hpp"
#include "core_harness.hpp"

#include <gtest/gtest.h>

namespace etcdmesos::core::testing {
namespace {

uint64_t at(const std::map<std::string, uint64_t>& counts, const std::string& key) {
  auto it = counts.find(key);
  return it == counts.end() ? 0 : it->second;
}

uint64_t total(const std::map<std::string, uint64_t>& counts) {
  uint64_t sum = 0;
  for (const auto& [key, n] : counts) {
    sum += n;
  }
  return sum;
}

uint64_t bucket_total(const Counters& c) {
  uint64_t sum = 0;
  for (auto n : c.check_buckets) {
    sum += n;
  }
  return sum;
}

TEST(CoreCounters, ABringUpCountsLaunchesThatRanOffersAndChecksButNoReplacement) {
  Harness h;
  h.bring_up(3);
  const auto& c = h.core.counters();
  EXPECT_EQ(at(c.launches, "running"), 3u);
  EXPECT_EQ(total(c.launches), 3u);
  EXPECT_EQ(c.replacements, 0u) << "growing to the cluster size replaces nobody";
  EXPECT_EQ(c.offers_received, 3u);
  EXPECT_EQ(c.offers_declined, 0u);
  EXPECT_GE(c.health_checks, 3u);
  EXPECT_EQ(total(c.health_failures), 0u);
  EXPECT_EQ(bucket_total(c), c.health_checks);
}

TEST(CoreCounters, AFailedMemberStoodInForCountsOneReplacement) {
  Harness h;
  h.bring_up(3);
  const Member lost = *h.member("etcd-2");
  h.step(AgentLost{"a2"});
  // Declined: no fresh view yet.
  h.offers({offer("o4", 4)});
  EXPECT_EQ(h.core.counters().offers_declined, 1u);
  h.tick_until_check();
  auto removes = only<RemoveEtcdMember>(h.answer_check(true, {listed(lost, 2)}));
  ASSERT_EQ(removes.size(), 1u);
  h.step(MemberRemoved{removes[0].etcd_id, true, ""});
  h.tick_until_check();
  h.answer_check(true);
  auto adds = only<AddEtcdMember>(h.offers({offer("o5", 4)}));
  ASSERT_EQ(adds.size(), 1u);
  EXPECT_EQ(h.core.counters().replacements, 0u) << "counted when the launch is sent";
  auto launch = only<LaunchMember>(h.step(MemberAdded{adds[0].name, true, 4, ""}));
  ASSERT_EQ(launch.size(), 1u);
  EXPECT_EQ(h.core.counters().replacements, 1u);
  h.report(launch[0].spec.member, TaskState::kRunning);
  EXPECT_EQ(at(h.core.counters().launches, "running"), 4u);
  EXPECT_EQ(h.core.counters().offers_received, 5u);
}

TEST(CoreCounters, ALaunchThatNeverRunsCountsAsTimedOutOrFailed) {
  Config config = test_config();
  config.cluster_size = 1;
  Harness h(config);
  h.step(Subscribed{"fw-1"});
  auto first = only<LaunchMember>(h.offers({offer("o1", 1)}));
  ASSERT_EQ(first.size(), 1u);
  h.advance(config.launch_timeout + 1000ms);
  EXPECT_EQ(at(h.core.counters().launches, "timed_out"), 1u);
  auto second = only<LaunchMember>(h.offers({offer("o2", 2)}));
  ASSERT_EQ(second.size(), 1u);
  h.report(second[0].spec.member, TaskState::kFailed);
  EXPECT_EQ(at(h.core.counters().launches, "failed"), 1u);
  EXPECT_EQ(at(h.core.counters().launches, "running"), 0u);
  EXPECT_EQ(h.core.counters().replacements, 0u) << "neither ever served";
}

TEST(CoreCounters, FailedChecksAreCountedByReasonClassWithTheirDuration) {
  Harness h;
  h.bring_up(3);
  const auto before = h.core.counters();
  h.tick_until_check();
  h.advance(2000ms);  // the check takes 2 s
  h.answer_check(false);
  auto c = h.core.counters();
  EXPECT_EQ(c.health_checks, before.health_checks + 1);
  EXPECT_EQ(at(c.health_failures, "other"), 1u) << "the harness's reason has no known class";
  EXPECT_EQ(c.check_duration_sum - before.check_duration_sum, 2000ms);
  // 2 s lies in the bucket up to 2.5 s.
  const std::size_t bucket = 8;
  ASSERT_EQ(kHealthCheckBucketsMs[bucket], 2500);
  EXPECT_EQ(c.check_buckets[bucket] - before.check_buckets[bucket], 1u);

  // A check that gets no answer counts as a timeout, past the last bound.
  h.tick_until_check();
  h.advance(h.core.config().health_check_timeout);
  c = h.core.counters();
  EXPECT_EQ(at(c.health_failures, "timeout"), 1u);
  EXPECT_EQ(c.check_buckets.back() - before.check_buckets.back(), 0u)
      << "10 s is within the last bound";
  EXPECT_EQ(bucket_total(c), c.health_checks);
}

TEST(CoreCounters, HealthFailureClassesFollowTheReasonsFixedPhrases) {
  EXPECT_STREQ(health_failure_class("no quorum: 1 of 3 members reachable"), "no_quorum");
  EXPECT_STREQ(health_failure_class("no leader: etcd-1 reports none"), "no_leader");
  EXPECT_STREQ(health_failure_class("leader disagreement: a follows 1, b follows 2"),
               "leader_disagreement");
  EXPECT_STREQ(health_failure_class("NOSPACE alarm on etcd-1: ..."), "nospace_alarm");
  EXPECT_STREQ(health_failure_class("CORRUPT alarm on etcd-1: ..."), "corrupt_alarm");
  EXPECT_STREQ(health_failure_class("probe write failed: timeout"), "probe_failed");
  EXPECT_STREQ(health_failure_class("raft term changed on etcd-1: 2 -> 3"), "term_changed");
  EXPECT_STREQ(health_failure_class("no progress: the commit index did not advance"),
               "no_progress");
  EXPECT_STREQ(health_failure_class("something new"), "other");
  // Every class is one of the fixed label values.
  for (const char* reason :
       {"no quorum", "no leader", "leader disagreement", "NOSPACE alarm", "CORRUPT alarm",
        "probe write failed", "raft term changed", "no progress", "?"}) {
    const std::string_view cls = health_failure_class(reason);
    EXPECT_TRUE(std::any_of(kHealthFailureClasses.begin(), kHealthFailureClasses.end(),
                            [&](const char* v) { return cls == v; }))
        << cls;
  }
}

TEST(CoreCounters, AJudgedVerdictCarriesEachMembersIdAndDatabaseSize) {
  HealthObservations obs;
  StatusSample s;
  s.reachable = true;
  s.member_id = 7;
  s.leader = 7;
  s.raft_index = 10;
  s.raft_term = 2;
  s.db_size_bytes = 20480;
  StatusSample after = s;
  after.raft_index = 11;
  obs.members.push_back(MemberObservation{"etcd-1", s, after});
  obs.probe_ok = true;
  const auto result = judge_health(obs);
  ASSERT_EQ(result.members.size(), 1u);
  EXPECT_EQ(result.members[0].member_id, 7u);
  EXPECT_EQ(result.members[0].db_size_bytes, 20480u);
  EXPECT_TRUE(result.healthy);
}

TEST(CoreCounters, PersistenceErrorsAreCountedByWhatWasWritten) {
  Harness h(persist_config());
  h.step(Subscribed{"fw-1"});
  h.step(FrameworkIdPersisted{"fw-1", false, "connection loss"});
  EXPECT_EQ(at(h.core.counters().persistence_errors, "framework_id"), 1u);
  h.advance(2000ms);
  h.step(FrameworkIdPersisted{"fw-1", true, ""});
  auto fx = h.offers({offer("o1", 1)});
  auto writes = only<PersistTask>(fx);
  ASSERT_EQ(writes.size(), 1u);
  h.step(TaskPersisted{writes[0].member.task_id, false, false, "connection loss"});
  EXPECT_EQ(at(h.core.counters().persistence_errors, "task"), 1u);
  EXPECT_EQ(at(h.core.counters().launches, "abandoned"), 1u)
      << "a launch whose record failed is given up, never sent";
  EXPECT_EQ(at(h.core.counters().persistence_errors, "framework_id"), 1u);
}

}  // namespace
}  // namespace etcdmesos::core::testing
