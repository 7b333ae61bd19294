// Backup scheduling (scheduler_core_backup.cpp, issue 14): never two at
// once, only from a cluster a fresh check found healthy, every interval from
// the last start, a failure retried sooner, an operator's request at once or
// refused with the reason.
#include "core_harness.hpp"

#include <gtest/gtest.h>

namespace etcdmesos::core::testing {
namespace {

Config backup_config(Millis interval = 1800000ms) {
  Config c = test_config();
  c.backup_interval = interval;
  c.backup_retry = 60000ms;
  return c;
}

// Ticks `by` in steps of one second, every health check answered with
// `healthy` (none answered when nullopt: they time out); returns the
// backups started.
std::vector<TakeBackup> backups_during(Harness& h, Millis by, std::optional<bool> healthy = true) {
  std::vector<TakeBackup> out;
  for (Millis waited{0}; waited < by; waited += 1000ms) {
    auto fx = h.advance(1000ms);
    auto started = only<TakeBackup>(fx);
    out.insert(out.end(), started.begin(), started.end());
    if (healthy && count<CheckHealth>(fx) > 0) {
      started = only<TakeBackup>(h.answer_check(*healthy));
      out.insert(out.end(), started.begin(), started.end());
    }
  }
  return out;
}

// Three members up; the tick after the last healthy check starts the first
// backup (backups start on ticks).
void bring_up_and_tick(Harness& h) {
  h.bring_up(3);
  h.advance(1000ms);
}

// The backup under way answered.
void finish(Harness& h, bool ok, uint64_t revision = 42) {
  ASSERT_TRUE(h.core.backups().in_flight.has_value());
  BackupDone done;
  done.id = *h.core.backups().in_flight;
  done.ok = ok;
  if (ok) {
    done.revision = revision;
    done.size_bytes = 20480;
    done.file = "etcd-backup-" + std::to_string(revision) + ".db";
  } else {
    done.error = "No space left on device";
  }
  h.step(done);
}

TEST(BackupScheduling, WithoutABackupDirectoryNothingIsTakenAndAnOperatorIsToldWhy) {
  Harness h;
  h.bring_up(3);
  EXPECT_TRUE(backups_during(h, 3600000ms).empty());
  EXPECT_EQ(count<TakeBackup>(h.history), 0u);
  const auto why = h.core.why_not_backup();
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("-backup-dir"), std::string::npos) << *why;
  EXPECT_TRUE(only<TakeBackup>(h.step(OperatorBackup{})).empty());
  EXPECT_FALSE(h.core.backups().enabled);
}

TEST(BackupScheduling, TheFirstWaitsForAFreshHealthyCheckThenStartsAtOnce) {
  Harness h(backup_config());
  h.step(Subscribed{"fw"});
  EXPECT_TRUE(backups_during(h, 10000ms, std::nullopt).empty());  // no member, no check yet
  ASSERT_TRUE(h.core.why_not_backup().has_value());
  h.bring_up(3);
  // Every healthy check so far was followed by a membership change before a
  // tick; the first tick after the last one starts it.
  EXPECT_EQ(count<TakeBackup>(h.history), 0u);
  h.advance(1000ms);
  const auto taken = only<TakeBackup>(h.history);
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0].why, "scheduled");
  EXPECT_FALSE(taken[0].client_urls.empty());
  EXPECT_TRUE(h.core.backups().in_flight.has_value());
}

TEST(BackupScheduling, NeverTwoAtOnceAndTheNextComesAnIntervalAfterTheLastStart) {
  Harness h(backup_config(600000ms));
  bring_up_and_tick(h);
  ASSERT_TRUE(h.core.backups().in_flight.has_value());
  const Millis started = *h.core.backups().in_flight_since;
  // However long it takes, no second one starts, and an operator is refused.
  EXPECT_TRUE(backups_during(h, 1200000ms).empty());
  const auto why = h.core.why_not_backup();
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("already under way"), std::string::npos) << *why;
  EXPECT_TRUE(only<TakeBackup>(h.step(OperatorBackup{})).empty());
  finish(h, true, 77);
  EXPECT_EQ(h.core.backups().successes, 1u);
  EXPECT_EQ(h.core.backups().last_revision, 77u);
  EXPECT_EQ(h.core.backups().last_file, "etcd-backup-77.db");
  // Due again 10 minutes after the last start, which passed long ago: at
  // once (a fresh healthy check is at hand).
  EXPECT_EQ(h.core.next_backup_at(), started + 600000ms);
  auto next = backups_during(h, 1000ms);
  ASSERT_EQ(next.size(), 1u);
  finish(h, true, 78);
  // And then not before another 10 minutes.
  EXPECT_TRUE(backups_during(h, 599000ms).empty());
  EXPECT_EQ(backups_during(h, 2000ms).size(), 1u);
}

TEST(BackupScheduling, AFailureIsCountedAndRetriedAfterTheShorterRetryWait) {
  Harness h(backup_config());
  bring_up_and_tick(h);
  const Millis started = *h.core.backups().in_flight_since;
  finish(h, false);
  const auto& b = h.core.backups();
  EXPECT_EQ(b.failures, 1u);
  EXPECT_EQ(b.successes, 0u);
  EXPECT_TRUE(b.last_failed);
  EXPECT_EQ(b.last_error, "No space left on device");
  EXPECT_EQ(h.core.next_backup_at(), started + 60000ms);
  const Millis wait = started + 60000ms - h.now;
  EXPECT_TRUE(backups_during(h, wait - 1000ms).empty());
  EXPECT_EQ(backups_during(h, 2000ms).size(), 1u);
  finish(h, true);
  EXPECT_FALSE(h.core.backups().last_failed);
  EXPECT_TRUE(h.core.backups().last_error.empty());
  EXPECT_EQ(h.core.backups().failures, 1u);  // a count, not a state
}

TEST(BackupScheduling, ARetryNeverWaitsLongerThanTheInterval) {
  Harness h(backup_config(20000ms));
  bring_up_and_tick(h);
  const Millis started = *h.core.backups().in_flight_since;
  finish(h, false);
  EXPECT_EQ(h.core.next_backup_at(), started + 20000ms);
}

TEST(BackupScheduling, NoneFromAnUnhealthyClusterUntilAFreshCheckFindsItHealthyAgain) {
  Harness h(backup_config(60000ms));
  bring_up_and_tick(h);
  finish(h, true);
  ASSERT_GT(count<CheckHealth>(h.tick_until_check()), 0u);
  h.answer_check(false);
  const auto why = h.core.why_not_backup();
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("unhealthy"), std::string::npos) << *why;
  // Due meanwhile, but it waits (no failure counted) ...
  EXPECT_TRUE(backups_during(h, 4000ms, std::nullopt).empty());
  h.now += 120000ms;
  EXPECT_TRUE(only<TakeBackup>(h.core.tick(h.now)).empty());
  EXPECT_EQ(h.core.backups().failures, 0u);
  EXPECT_TRUE(only<TakeBackup>(h.step(OperatorBackup{})).empty());
  // ... until a check finds the cluster healthy again.
  ASSERT_GT(count<CheckHealth>(h.tick_until_check()), 0u);
  h.answer_check(true);
  EXPECT_EQ(backups_during(h, 1000ms).size(), 1u);
}

TEST(BackupScheduling, AMembershipChangeWaitsForTheNextFreshCheck) {
  Harness h(backup_config(60000ms));
  bring_up_and_tick(h);
  finish(h, true);
  // A member is lost: the verdict before it no longer vouches for the cluster.
  const Member lost = *h.member("etcd-2");
  h.step(status(lost.task_id, lost.agent_id, TaskState::kLost, h.next_uuid()));
  const auto why = h.core.why_not_backup();
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("membership change"), std::string::npos) << *why;
  EXPECT_TRUE(only<TakeBackup>(h.step(OperatorBackup{})).empty());
  // The next fresh healthy check of the remaining members lets backups go on.
  ASSERT_GT(count<CheckHealth>(h.tick_until_check()), 0u);
  h.answer_check(true);
  auto taken = only<TakeBackup>(h.step(OperatorBackup{}));
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0].why, "operator request");
  for (const auto& url : taken[0].client_urls) {
    EXPECT_NE(url, lost.client_url());
  }
}

TEST(BackupScheduling, AnOperatorRequestStartsAtOnceAndTheScheduleCountsFromIt) {
  Harness h(backup_config());
  bring_up_and_tick(h);
  finish(h, true);
  h.advance(5000ms);
  ASSERT_FALSE(h.core.why_not_backup().has_value()) << *h.core.why_not_backup();
  auto taken = only<TakeBackup>(h.step(OperatorBackup{}));
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(h.core.next_backup_at(), std::nullopt);  // one is under way
  finish(h, true);
  EXPECT_EQ(h.core.next_backup_at(), h.now + 1800000ms);
}

TEST(BackupScheduling, AnAnswerToAnotherBackupIsIgnored) {
  Harness h(backup_config());
  bring_up_and_tick(h);
  const uint64_t id = *h.core.backups().in_flight;
  h.step(BackupDone{id + 7, true, 5, 5, "stray.db", ""});
  EXPECT_EQ(h.core.backups().in_flight, id);
  EXPECT_EQ(h.core.backups().successes, 0u);
}

TEST(BackupScheduling, FollowersAreAskedBeforeTheLeaderAndOnlyMembersThatAnswered) {
  Harness h(backup_config());
  bring_up_and_tick(h);
  finish(h, true);
  ASSERT_GT(count<CheckHealth>(h.tick_until_check()), 0u);
  HealthResult r;
  r.healthy = true;
  for (const auto& m : h.core.members()) {
    const bool down = m.name == "etcd-3";
    r.members.push_back(
        MemberHealth{m.name, !down, down ? 0 : Harness::etcd_id_of("etcd-1"), 10, 2, ""});
    r.membership.push_back(listed(m, Harness::etcd_id_of(m.name)));
  }
  h.step(HealthChecked{h.last_check_id, r});
  auto taken = only<TakeBackup>(h.step(OperatorBackup{}));
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0].client_urls, (std::vector<std::string>{h.member("etcd-2")->client_url(),
                                                            h.member("etcd-1")->client_url()}));
}

TEST(BackupScheduling, NoneWhileLockedAfterATotalLoss) {
  Harness h(backup_config(60000ms));
  bring_up_and_tick(h);
  finish(h, true);
  for (const char* name : {"etcd-1", "etcd-2", "etcd-3"}) {
    const Member m = *h.member(name);
    h.step(status(m.task_id, m.agent_id, TaskState::kFailed, h.next_uuid()));
  }
  ASSERT_TRUE(h.core.total_loss());
  EXPECT_TRUE(backups_during(h, 120000ms, std::nullopt).empty());
  const auto why = h.core.why_not_backup();
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("total loss"), std::string::npos) << *why;
}

}  // namespace
}  // namespace etcdmesos::core::testing
