// When health checks run, and what their answers change.
#include "core/check_schedule.hpp"
#include "core_harness.hpp"

#include <gtest/gtest.h>

namespace etcdmesos::core::testing {
namespace {

Harness running_one() {
  Harness h;
  h.step(Subscribed{"fw-1"});
  auto m = only<LaunchMember>(h.offers({offer("o1", 1)}))[0].spec.member;
  h.report(m, TaskState::kRunning);
  return h;
}

TEST(CoreHealth, NoCheckWithoutARunningMember) {
  Harness h;
  h.step(Subscribed{"fw-1"});
  EXPECT_EQ(count<CheckHealth>(h.advance(60000ms)), 0u);
  h.offers({offer("o1", 1)});
  EXPECT_EQ(count<CheckHealth>(h.advance(5000ms)), 0u);
}

TEST(CoreHealth, ChecksRunEveryIntervalWithOneInFlight) {
  Harness h = running_one();
  auto fx = h.advance(1ms);
  auto checks = only<CheckHealth>(fx);
  ASSERT_EQ(checks.size(), 1u);
  ASSERT_EQ(checks[0].members.size(), 1u);
  EXPECT_EQ(checks[0].members[0].name, "etcd-1");
  // Unanswered: no second check even when the interval has passed.
  EXPECT_EQ(count<CheckHealth>(h.advance(6000ms)), 0u);
  h.answer_check(true);
  // Answered: the next one starts once the interval since the last start is over.
  auto next = h.tick_until_check();
  ASSERT_EQ(count<CheckHealth>(next), 1u);
  EXPECT_GT(only<CheckHealth>(next)[0].check_id, checks[0].check_id);
}

TEST(CoreHealth, IntervalIsRespectedBetweenAnsweredChecks) {
  Harness h = running_one();
  h.advance(1ms);
  h.answer_check(true);
  EXPECT_EQ(count<CheckHealth>(h.advance(4000ms)), 0u);
  EXPECT_EQ(count<CheckHealth>(h.advance(1000ms)), 1u);
}

TEST(CoreHealth, UnansweredCheckIsAbandonedAsUnhealthy) {
  Harness h = running_one();
  h.advance(1ms);
  const uint64_t answered = h.last_check_id;
  h.answer_check(true);
  h.tick_until_check();
  const uint64_t hung = h.last_check_id;
  EXPECT_TRUE(h.core.stats().healthy);
  auto fx = h.advance(10000ms);
  EXPECT_FALSE(h.core.stats().healthy);
  ASSERT_TRUE(h.core.last_health().has_value());
  EXPECT_FALSE(h.core.last_health()->healthy);
  EXPECT_NE(h.core.last_health()->reason.find("no answer"), std::string::npos);
  // A new check starts right away, and the late answer of the hung one is ignored.
  ASSERT_EQ(count<CheckHealth>(fx), 1u);
  EXPECT_NE(h.last_check_id, hung);
  h.step(HealthChecked{hung, HealthResult{true, "", {}, {}}});
  EXPECT_FALSE(h.core.stats().healthy);
  h.step(HealthChecked{answered, HealthResult{true, "", {}, {}}});
  EXPECT_FALSE(h.core.stats().healthy);
  // And the abandoned check blocks growth like an unhealthy one.
  EXPECT_EQ(count<AddEtcdMember>(h.offers({offer("o2", 2)})), 0u);
}

TEST(CoreHealth, UnknownCheckIdIsIgnored) {
  Harness h = running_one();
  h.advance(1ms);
  h.step(HealthChecked{999, HealthResult{true, "", {}, {}}});
  EXPECT_FALSE(h.core.last_health().has_value());
  EXPECT_FALSE(h.core.stats().healthy);
}

TEST(CoreHealth, VerdictUpdatesLastHealthAndStats) {
  Harness h = running_one();
  h.advance(1ms);
  h.answer_check(false);
  ASSERT_TRUE(h.core.last_health().has_value());
  EXPECT_FALSE(h.core.last_health()->healthy);
  EXPECT_EQ(h.core.last_health()->reason, "commit index did not advance");
  h.tick_until_check();
  h.answer_check(true);
  EXPECT_TRUE(h.core.last_health()->healthy);
  EXPECT_TRUE(h.core.stats().healthy);
}

TEST(CoreHealth, NoChecksWhileDisconnected) {
  Harness h = running_one();
  h.step(Disconnected{});
  EXPECT_EQ(count<CheckHealth>(h.advance(60000ms)), 0u);
  h.step(Subscribed{"fw-1"});
  EXPECT_EQ(count<CheckHealth>(h.advance(1ms)), 1u);
}

TEST(CheckSchedule, MatchesAnswersAndRemembersTheEpoch) {
  CheckSchedule s(5000ms, 10000ms);
  auto id = s.start_if_due(0ms, 7);
  ASSERT_TRUE(id.has_value());
  EXPECT_FALSE(s.start_if_due(6000ms, 7).has_value());
  EXPECT_FALSE(s.finish(*id + 1).has_value());
  EXPECT_EQ(s.finish(*id), std::optional<uint64_t>(7));
  EXPECT_FALSE(s.finish(*id).has_value());  // answered once only
  EXPECT_FALSE(s.start_if_due(4999ms, 8).has_value());
  EXPECT_TRUE(s.start_if_due(5000ms, 8).has_value());
}

TEST(CheckSchedule, DueNowBringsTheNextCheckForward) {
  CheckSchedule s(5000ms, 10000ms);
  s.finish(*s.start_if_due(0ms, 0));
  s.due_now(1000ms);
  EXPECT_TRUE(s.start_if_due(1000ms, 1).has_value());
}

TEST(CheckSchedule, ExpiresOnlyAfterTheTimeout) {
  CheckSchedule s(5000ms, 10000ms);
  auto id = s.start_if_due(0ms, 0);
  EXPECT_FALSE(s.expire(9999ms).has_value());
  EXPECT_EQ(s.expire(10000ms), id);
  EXPECT_FALSE(s.in_flight());
  EXPECT_FALSE(s.finish(*id).has_value());
}

}  // namespace
}  // namespace etcdmesos::core::testing
