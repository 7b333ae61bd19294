// ReconcileTracker with a fake clock: every rule of "stay immutable until
// reconciled", retries with backoff, the failure verdict, periodic implicit.
#include "core/reconciliation.hpp"

#include <gtest/gtest.h>

namespace etcdmesos::core {
namespace {

using namespace std::chrono_literals;

ReconcileConfig small_config() {
  ReconcileConfig c;
  c.first_retry_after = 1000ms;
  c.max_retry_interval = 4000ms;
  c.max_retries = 3;
  c.implicit_interval = 60000ms;
  return c;
}

const Reconcile kImplicit{};

std::vector<ReconcileTask> two_tasks() {
  return {{"t1", "a1"}, {"t2", "a2"}};
}

Reconcile explicit_for(std::vector<std::pair<std::string, std::string>> tasks) {
  return Reconcile{std::move(tasks)};
}

// Ticks every 100 ms from `from` to `to` (inclusive) and returns every
// Reconcile due, each with the time it was returned.
std::vector<std::pair<Millis, Reconcile>> run(ReconcileTracker& t, Millis from, Millis to) {
  std::vector<std::pair<Millis, Reconcile>> out;
  for (Millis now = from; now <= to; now += 100ms) {
    for (auto& r : t.tick(now)) {
      out.emplace_back(now, std::move(r));
    }
  }
  return out;
}

TEST(ReconcileTracker, IdleUntilStartedAndNothingDue) {
  ReconcileTracker t(small_config());
  EXPECT_EQ(t.phase(), ReconcilePhase::kIdle);
  EXPECT_FALSE(t.in_sync());
  EXPECT_TRUE(run(t, 0ms, 600000ms).empty());
  EXPECT_FALSE(t.heard("t1"));
}

TEST(ReconcileTracker, StartAsksExplicitlyForEveryTaskAndImplicitly) {
  ReconcileTracker t(small_config());
  auto out = t.start(two_tasks(), 0ms);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], explicit_for({{"t1", "a1"}, {"t2", "a2"}}));
  EXPECT_EQ(out[1], kImplicit);
  EXPECT_EQ(t.phase(), ReconcilePhase::kWaiting);
  EXPECT_EQ(t.silent(), two_tasks());
}

TEST(ReconcileTracker, NoPersistedTasksIsInSyncAtOnceAfterTheImplicitOne) {
  ReconcileTracker t(small_config());
  auto out = t.start({}, 0ms);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], kImplicit);
  EXPECT_TRUE(t.in_sync());
}

TEST(ReconcileTracker, DuplicateAndEmptyTaskIdsAreDropped) {
  ReconcileTracker t(small_config());
  auto out = t.start({{"t1", "a1"}, {"", "a9"}, {"t1", "a1"}, {"t2", ""}}, 0ms);
  EXPECT_EQ(out[0], explicit_for({{"t1", "a1"}, {"t2", ""}}));
  EXPECT_EQ(t.silent().size(), 2u);
}

TEST(ReconcileTracker, InSyncOnlyOnceEveryTaskWasHeardFrom) {
  ReconcileTracker t(small_config());
  t.start(two_tasks(), 0ms);
  EXPECT_FALSE(t.heard("unrelated"));
  EXPECT_FALSE(t.in_sync());
  EXPECT_TRUE(t.heard("t2"));
  EXPECT_FALSE(t.in_sync());
  EXPECT_FALSE(t.heard("t2"));  // a second update for it changes nothing
  EXPECT_EQ(t.silent(), (std::vector<ReconcileTask>{{"t1", "a1"}}));
  EXPECT_EQ(t.heard_from(), (std::vector<ReconcileTask>{{"t2", "a2"}}));
  EXPECT_TRUE(t.heard("t1"));
  EXPECT_TRUE(t.in_sync());
  EXPECT_TRUE(t.silent().empty());
}

TEST(ReconcileTracker, RetriesOnlyTheSilentOnesWithDoublingBackoff) {
  ReconcileTracker t(small_config());
  t.start(two_tasks(), 0ms);
  t.heard("t1");
  auto due = run(t, 0ms, 20000ms);
  // first_retry_after 1 s, then 2 s, then 4 s (the cap); three retries.
  ASSERT_EQ(due.size(), 3u);
  EXPECT_EQ(due[0].first, 1000ms);
  EXPECT_EQ(due[1].first, 3000ms);
  EXPECT_EQ(due[2].first, 7000ms);
  for (const auto& [when, r] : due) {
    EXPECT_EQ(r, explicit_for({{"t2", "a2"}})) << when.count();
  }
  EXPECT_EQ(t.retries(), 3);
}

TEST(ReconcileTracker, BackoffIsCappedAtTheMaximumInterval) {
  auto c = small_config();
  c.max_retries = 6;
  ReconcileTracker t(c);
  t.start(two_tasks(), 0ms);
  auto due = run(t, 0ms, 60000ms);
  ASSERT_EQ(due.size(), 6u);
  std::vector<Millis> at;
  for (const auto& d : due) {
    at.push_back(d.first);
  }
  EXPECT_EQ(at, (std::vector<Millis>{1000ms, 3000ms, 7000ms, 11000ms, 15000ms, 19000ms}));
}

TEST(ReconcileTracker, FailsAfterTheLastRetryNamingTheSilentTasks) {
  ReconcileTracker t(small_config());
  t.start(two_tasks(), 0ms);
  t.heard("t1");
  run(t, 0ms, 10900ms);  // last retry at 7 s; its wait ends at 11 s
  EXPECT_EQ(t.phase(), ReconcilePhase::kWaiting);
  EXPECT_TRUE(t.tick(11000ms).empty());
  EXPECT_TRUE(t.failed());
  EXPECT_NE(t.failure_reason().find("'t2' on agent 'a2'"), std::string::npos) << t.failure_reason();
  EXPECT_EQ(t.failure_reason().find("'t1'"), std::string::npos) << t.failure_reason();
  EXPECT_NE(t.failure_reason().find("3 explicit reconciliation retries"), std::string::npos)
      << t.failure_reason();
  EXPECT_NE(t.describe().find("failed"), std::string::npos);
  // Nothing more is due, not even the periodic implicit one, and an answer
  // arriving now does not undo the verdict.
  EXPECT_TRUE(run(t, 11000ms, 600000ms).empty());
  EXPECT_FALSE(t.heard("t2"));
  t.stop();
  EXPECT_TRUE(t.failed());
}

TEST(ReconcileTracker, AnAnswerBeforeTheDeadlineAvoidsTheFailure) {
  ReconcileTracker t(small_config());
  t.start(two_tasks(), 0ms);
  run(t, 0ms, 10900ms);
  t.heard("t1");
  t.heard("t2");
  EXPECT_TRUE(t.in_sync());
  auto later = run(t, 11000ms, 30000ms);
  EXPECT_TRUE(later.empty());
  EXPECT_FALSE(t.failed());
}

TEST(ReconcileTracker, ZeroRetriesFailsAfterTheFirstWait) {
  auto c = small_config();
  c.max_retries = 0;
  ReconcileTracker t(c);
  t.start(two_tasks(), 0ms);
  EXPECT_TRUE(t.tick(999ms).empty());
  EXPECT_FALSE(t.failed());
  EXPECT_TRUE(t.tick(1000ms).empty());
  EXPECT_TRUE(t.failed());
}

TEST(ReconcileTracker, FailureMessageNamesAtMostTenTasks) {
  ReconcileTracker t(small_config());
  std::vector<ReconcileTask> many;
  for (int i = 0; i < 13; ++i) {
    many.push_back({"t" + std::to_string(i), ""});
  }
  t.start(many, 0ms);
  run(t, 0ms, 20000ms);
  ASSERT_TRUE(t.failed());
  EXPECT_NE(t.failure_reason().find("13 persisted task(s)"), std::string::npos);
  EXPECT_NE(t.failure_reason().find("'t9'"), std::string::npos);
  EXPECT_EQ(t.failure_reason().find("'t10'"), std::string::npos);
  EXPECT_NE(t.failure_reason().find("and 3 more"), std::string::npos) << t.failure_reason();
}

TEST(ReconcileTracker, ImplicitReconciliationIsPeriodicWhileSubscribed) {
  ReconcileTracker t(small_config());
  t.start({}, 5000ms);
  auto due = run(t, 5000ms, 185000ms);
  ASSERT_EQ(due.size(), 3u);
  EXPECT_EQ(due[0], std::make_pair(Millis(65000), kImplicit));
  EXPECT_EQ(due[1], std::make_pair(Millis(125000), kImplicit));
  EXPECT_EQ(due[2], std::make_pair(Millis(185000), kImplicit));
}

TEST(ReconcileTracker, ImplicitReconciliationAlsoRunsWhileStillWaiting) {
  auto c = small_config();
  c.implicit_interval = 5000ms;
  c.max_retries = 100;
  ReconcileTracker t(c);
  t.start(two_tasks(), 0ms);
  auto due = run(t, 0ms, 5000ms);
  int implicit = 0;
  for (const auto& [when, r] : due) {
    implicit += r.tasks.empty() ? 1 : 0;
  }
  EXPECT_EQ(implicit, 1);
}

TEST(ReconcileTracker, StopPausesEverythingUntilTheNextStart) {
  ReconcileTracker t(small_config());
  t.start(two_tasks(), 0ms);
  t.stop();
  EXPECT_EQ(t.phase(), ReconcilePhase::kIdle);
  EXPECT_FALSE(t.heard("t1"));
  EXPECT_TRUE(run(t, 0ms, 600000ms).empty());  // no retries, no failure, no implicit
  EXPECT_FALSE(t.failed());
}

TEST(ReconcileTracker, ARestartForgetsWhatWasHeardAndResetsTheRetries) {
  ReconcileTracker t(small_config());
  t.start(two_tasks(), 0ms);
  t.heard("t1");
  t.heard("t2");
  ASSERT_TRUE(t.in_sync());
  // Master failover, re-subscribed: the picture may be stale again.
  t.stop();
  auto out = t.start(two_tasks(), 100000ms);
  EXPECT_EQ(out.size(), 2u);
  EXPECT_EQ(t.phase(), ReconcilePhase::kWaiting);
  EXPECT_EQ(t.retries(), 0);
  EXPECT_TRUE(t.heard_from().empty());
  auto due = run(t, 100000ms, 101000ms);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].first, 101000ms);  // backoff restarted from the first interval
}

TEST(ReconcileTracker, DescribeSaysWhatItWaitsFor) {
  ReconcileTracker t(small_config());
  EXPECT_NE(t.describe().find("not subscribed"), std::string::npos);
  t.start(two_tasks(), 0ms);
  t.heard("t1");
  EXPECT_NE(t.describe().find("1 of 2"), std::string::npos) << t.describe();
  t.heard("t2");
  EXPECT_NE(t.describe().find("in sync"), std::string::npos) << t.describe();
  EXPECT_EQ(std::string(to_string(ReconcilePhase::kInSync)), "IN_SYNC");
}

}  // namespace
}  // namespace etcdmesos::core
