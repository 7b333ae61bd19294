// Restore (issue 14): -restore-from at the first bootstrap, and POST /restore
// after a total loss. The restoring member is launched alone with the URI;
// the others join once it ran; a restoring member that fails before it ran
// locks the core again with the reason and nothing else is launched; a
// restarted core (persistence) never restores over recorded tasks and never
// ends with an empty cluster because a restore was under way.
#include "core_harness.hpp"

#include <gtest/gtest.h>

namespace etcdmesos::core::testing {
namespace {

constexpr const char* kGood = "file:///backups/good.snapshot";
constexpr const char* kBad = "file:///backups/corrupt.snapshot";

Config restore_config(const std::string& uri, bool persist = false) {
  Config c = persist ? persist_config() : test_config();
  c.restore_from = uri;
  c.bootstrap_window = 10000ms;  // would hold offers for a static bootstrap
  return c;
}

StatusUpdate failed_update(const Member& m, const std::string& message, const std::string& uuid) {
  StatusUpdate s = status(m.task_id, m.agent_id, TaskState::kFailed, uuid);
  s.message = message;
  return s;
}

// Every member of a running cluster of three fails: the total-loss lock.
void lose_everything(Harness& h) {
  h.bring_up(3);
  for (const char* name : {"etcd-1", "etcd-2", "etcd-3"}) {
    h.report(*h.member(name), TaskState::kFailed);
  }
  ASSERT_TRUE(h.core.total_loss());
}

TEST(CoreRestore, RestoreFromLaunchesTheFirstMemberAloneWithTheUri) {
  Harness h(restore_config(kGood));
  h.step(Subscribed{"fw-1"});
  EXPECT_TRUE(h.core.restoring());
  auto fx = h.offers({offer("o1", 1), offer("o2", 2), offer("o3", 3)});
  auto launches = only<LaunchMember>(fx);
  ASSERT_EQ(launches.size(), 1u) << "a restoring bootstrap is never a static one";
  EXPECT_EQ(launches[0].spec.restore_uri, kGood);
  EXPECT_EQ(launches[0].spec.cluster_state, "new");
  EXPECT_EQ(launches[0].spec.initial_cluster, "etcd-1=http://127.0.0.2:31000");
  EXPECT_FALSE(launches[0].spec.cluster_token.empty());
  EXPECT_EQ(count<DeclineOffer>(fx), 2u);  // the others are not held
  EXPECT_NE(h.core.restore_status().find("etcd-1 is restoring"), std::string::npos)
      << h.core.restore_status();

  // Nothing else is launched while it restores.
  EXPECT_EQ(count<LaunchMember>(h.offers({offer("o4", 2)})), 0u);
  EXPECT_EQ(count<AddEtcdMember>(h.offers({offer("o5", 3)})), 0u);

  h.report(launches[0].spec.member, TaskState::kRunning);
  EXPECT_FALSE(h.core.restoring());
  EXPECT_NE(h.core.last_restore_outcome().find("restored from"), std::string::npos);
  // The others join as in any growth, without the URI.
  h.tick_until_check();
  h.answer_check(true);
  auto adds = only<AddEtcdMember>(h.offers({offer("o6", 2)}));
  ASSERT_EQ(adds.size(), 1u);
  auto joined = only<LaunchMember>(h.step(MemberAdded{adds[0].name, true, 77, ""}));
  ASSERT_EQ(joined.size(), 1u);
  EXPECT_EQ(joined[0].spec.cluster_state, "existing");
  EXPECT_TRUE(joined[0].spec.restore_uri.empty());
}

TEST(CoreRestore, WithoutRestoreFromTheBootstrapIsStaticAndCarriesNoUri) {
  Config c = test_config();
  Harness h(c);
  h.step(Subscribed{"fw-1"});
  auto launches = only<LaunchMember>(h.offers({offer("o1", 1), offer("o2", 2), offer("o3", 3)}));
  ASSERT_EQ(launches.size(), 3u);
  for (const auto& l : launches) {
    EXPECT_TRUE(l.spec.restore_uri.empty());
  }
}

TEST(CoreRestore, ABadSnapshotLocksWithTheExecutorsReasonAndLaunchesNothingMore) {
  Harness h(restore_config(kBad));
  h.step(Subscribed{"fw-1"});
  auto launches = only<LaunchMember>(h.offers({offer("o1", 1)}));
  ASSERT_EQ(launches.size(), 1u);
  h.report(launches[0].spec.member, TaskState::kStarting);
  h.step(failed_update(launches[0].spec.member,
                       "restoring the snapshot failed: etcdctl snapshot restore exited with "
                       "status 1: Error: expected sha256",
                       "u-fail"));
  EXPECT_TRUE(h.core.locked());
  EXPECT_TRUE(h.core.total_loss());
  EXPECT_FALSE(h.core.restoring());
  EXPECT_NE(h.core.lock_reason().find(std::string("restore from ") + kBad + " failed"),
            std::string::npos)
      << h.core.lock_reason();
  EXPECT_NE(h.core.lock_reason().find("expected sha256"), std::string::npos);
  for (int i = 0; i < 5; ++i) {
    auto fx = h.offers({offer("o" + std::to_string(10 + i), 1 + i % 3)});
    EXPECT_EQ(count<LaunchMember>(fx) + count<AddEtcdMember>(fx), 0u);
    h.advance(70000ms);
  }
  // A good snapshot afterwards works.
  EXPECT_EQ(h.core.why_not_restore(), std::nullopt);
  h.step(OperatorRestore{kGood});
  auto again = only<LaunchMember>(h.offers({offer("o30", 2)}));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].spec.restore_uri, kGood);
}

TEST(CoreRestore, ARestoringMemberThatNeverReportsRunningLocksAtItsLaunchTimeout) {
  Harness h(restore_config(kGood));
  h.step(Subscribed{"fw-1"});
  auto launches = only<LaunchMember>(h.offers({offer("o1", 1)}));
  ASSERT_EQ(launches.size(), 1u);
  auto fx = h.advance(61000ms);
  EXPECT_EQ(count<KillTask>(fx), 1u);
  EXPECT_TRUE(h.core.total_loss());
  EXPECT_NE(h.core.lock_reason().find("no TASK_RUNNING within"), std::string::npos)
      << h.core.lock_reason();
}

TEST(CoreRestore, ARestoringMemberLostWithItsAgentLocks) {
  Harness h(restore_config(kGood));
  h.step(Subscribed{"fw-1"});
  auto launches = only<LaunchMember>(h.offers({offer("o1", 1)}));
  ASSERT_EQ(launches.size(), 1u);
  h.step(AgentLost{"a1"});
  EXPECT_TRUE(h.core.total_loss());
  EXPECT_NE(h.core.lock_reason().find("restore from"), std::string::npos);
  EXPECT_EQ(count<LaunchMember>(h.offers({offer("o2", 2)})), 0u);
}

TEST(CoreRestore, OperatorRestoreIsRefusedUnlessLockedAfterATotalLoss) {
  Harness h(test_config());
  EXPECT_TRUE(h.core.why_not_restore());
  h.bring_up(3);
  ASSERT_TRUE(h.core.why_not_restore());
  EXPECT_NE(h.core.why_not_restore()->find("not locked"), std::string::npos);
  auto fx = h.step(OperatorRestore{kGood});
  EXPECT_EQ(count<KillTask>(fx), 0u);
  EXPECT_FALSE(h.core.restoring());
  EXPECT_EQ(h.core.members().size(), 3u);
}

TEST(CoreRestore, OperatorRestoreAfterATotalLossBootstrapsFromTheSnapshot) {
  Harness h(test_config());
  lose_everything(h);
  EXPECT_EQ(h.core.why_not_restore(), std::nullopt);
  h.step(OperatorRestore{kGood});
  EXPECT_FALSE(h.core.locked());
  EXPECT_TRUE(h.core.restoring());
  auto launches = only<LaunchMember>(h.offers({offer("o20", 4), offer("o21", 5)}));
  ASSERT_EQ(launches.size(), 1u);
  EXPECT_EQ(launches[0].spec.restore_uri, kGood);
  EXPECT_EQ(launches[0].spec.member.name, "etcd-4");  // names are never reused
  h.report(launches[0].spec.member, TaskState::kRunning);
  EXPECT_FALSE(h.core.restoring());
  EXPECT_FALSE(h.core.locked());
  // A later loss of everything is a total loss again (the restored member
  // held the data).
  h.report(launches[0].spec.member, TaskState::kFailed);
  EXPECT_TRUE(h.core.total_loss());
  EXPECT_EQ(h.core.lock_reason().find("restore from"), std::string::npos);
}

TEST(CoreRestore, ANewClusterTokenForEveryRestore) {
  Harness h(test_config());
  lose_everything(h);
  const std::string lost_token = h.core.cluster_token();
  h.step(OperatorRestore{kBad});
  auto first = only<LaunchMember>(h.offers({offer("o20", 4)}));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_NE(first[0].spec.cluster_token, lost_token);
  h.report(first[0].spec.member, TaskState::kFailed);
  ASSERT_TRUE(h.core.total_loss());
  h.step(OperatorRestore{kGood});
  h.advance(40000ms);  // past the failed agent's backoff
  auto second = only<LaunchMember>(h.offers({offer("o21", 5)}));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_NE(second[0].spec.cluster_token, first[0].spec.cluster_token);
}

TEST(CoreRestore, UnlockAfterAFailedRestoreBootstrapsAnEmptyCluster) {
  Harness h(restore_config(kBad));
  h.step(Subscribed{"fw-1"});
  auto launches = only<LaunchMember>(h.offers({offer("o1", 1)}));
  ASSERT_EQ(launches.size(), 1u);
  h.report(launches[0].spec.member, TaskState::kFailed);
  ASSERT_TRUE(h.core.total_loss());
  h.step(OperatorUnlock{});
  auto fresh = only<LaunchMember>(h.offers({offer("o2", 2), offer("o3", 3), offer("o4", 4)}));
  ASSERT_EQ(fresh.size(), 3u);  // static bootstrap again; -restore-from is spent
  EXPECT_TRUE(fresh[0].spec.restore_uri.empty());
}

// ---------------------------------------------------------- persistence

Member recorded(int n, TaskState state) {
  Member m;
  m.name = "etcd-" + std::to_string(n);
  m.task_id = m.name + "-abcd";
  m.agent_id = "a" + std::to_string(n);
  m.host = "127.0.0." + std::to_string(n + 1);
  m.peer_port = 31000;
  m.client_port = 31001;
  m.state = state;
  return m;
}

TEST(CoreRestorePersist, RestoreFromIsIgnoredOnceTasksAreRecorded) {
  Harness h(restore_config(kGood, true));
  h.step(Recovered{"fw-1", {recorded(1, TaskState::kRunning)}, ""});
  EXPECT_FALSE(h.core.restoring());
  EXPECT_NE(h.core.last_restore_outcome().find("not restored"), std::string::npos);
  h.step(Subscribed{"fw-1"});
  h.step(status("etcd-1-abcd", "a1", TaskState::kRunning));
  h.tick_until_check();
  h.answer_check(true);
  auto fx = h.acked(h.offers({offer("o1", 2)}));
  for (const auto& l : only<LaunchMember>(fx)) {
    EXPECT_TRUE(l.spec.restore_uri.empty());
  }
  auto adds = only<AddEtcdMember>(fx);
  ASSERT_EQ(adds.size(), 1u);  // grows the recorded cluster
  // And when the recorded member is lost, the core locks: no restore.
  h.step(status("etcd-1-abcd", "a1", TaskState::kFailed, "u-lost"));
  EXPECT_TRUE(h.core.total_loss());
}

TEST(CoreRestorePersist, RestoreFromAppliesWithAnEmptyStore) {
  Harness h(restore_config(kGood, true));
  h.step(Recovered{"fw-1", {}, ""});
  h.step(Subscribed{"fw-1"});
  auto launches = only<LaunchMember>(h.acked(h.offers({offer("o1", 1)})));
  ASSERT_EQ(launches.size(), 1u);
  EXPECT_EQ(launches[0].spec.restore_uri, kGood);
}

TEST(CoreRestorePersist, AFailedRestoresRecordStaysSoARestartedCoreLocksToo) {
  Harness h(restore_config(kBad, true));
  h.step(Recovered{"", {}, ""});
  h.step(Subscribed{"fw-1"});
  h.step(FrameworkIdPersisted{"fw-1", true, ""});
  auto fx = h.acked(h.offers({offer("o1", 1)}));
  auto launches = only<LaunchMember>(fx);
  ASSERT_EQ(launches.size(), 1u);
  ASSERT_EQ(count<PersistTask>(fx), 1u);  // recorded before its launch
  fx = h.report(launches[0].spec.member, TaskState::kFailed);
  ASSERT_TRUE(h.core.total_loss());
  EXPECT_EQ(count<ForgetTask>(fx), 0u) << "its record keeps a restarted core locked";

  // The restarted core recovers the record (written before the launch),
  // hears that the task failed, and locks instead of bootstrapping.
  Harness restarted(restore_config(kBad, true));
  restarted.step(Recovered{"fw-1", {launches[0].spec.member}, ""});
  EXPECT_FALSE(restarted.core.restoring());
  restarted.step(Subscribed{"fw-1"});
  restarted.step(status(launches[0].spec.member.task_id, "a1", TaskState::kFailed, "u-1"));
  EXPECT_TRUE(restarted.core.total_loss());
  EXPECT_EQ(count<LaunchMember>(restarted.acked(restarted.offers({offer("o2", 2)}))), 0u);
}

TEST(CoreRestorePersist, ARestartMidRestoreAdoptsTheRestoringMember) {
  Harness h(persist_config());
  h.step(Recovered{"fw-1", {recorded(1, TaskState::kRunning)}, ""});
  h.step(Subscribed{"fw-1"});
  h.step(status("etcd-1-abcd", "a1", TaskState::kFailed, "u-lost"));
  ASSERT_TRUE(h.core.total_loss());
  auto fx = h.step(OperatorRestore{kGood});
  EXPECT_EQ(count<ForgetTask>(fx), 0u) << "the lost record stays until the restored member ran";
  auto launches = only<LaunchMember>(h.acked(h.offers({offer("o1", 2)})));
  ASSERT_EQ(launches.size(), 1u);
  const Member restoring = launches[0].spec.member;

  // The scheduler restarts now: the store holds the lost member's record and
  // the restoring member's (written before its launch).
  Harness restarted(persist_config());
  restarted.step(Recovered{"fw-1", {recorded(1, TaskState::kRunning), restoring}, ""});
  restarted.step(Subscribed{"fw-1"});
  restarted.step(status("etcd-1-abcd", "a1", TaskState::kLost, "u-1"));
  EXPECT_FALSE(restarted.core.locked()) << restarted.core.lock_reason();
  // No bootstrap while the restoring member may hold the data.
  auto none = restarted.acked(restarted.offers({offer("o2", 3), offer("o3", 4), offer("o4", 5)}));
  EXPECT_EQ(count<LaunchMember>(none), 0u);
  restarted.step(status(restoring.task_id, restoring.agent_id, TaskState::kRunning, "u-2"));
  EXPECT_FALSE(restarted.core.locked());
  EXPECT_EQ(restarted.core.members().size(), 1u);

  // Had it failed instead, the restarted core locks: never an empty cluster.
  Harness other(persist_config());
  other.step(Recovered{"fw-1", {recorded(1, TaskState::kRunning), restoring}, ""});
  other.step(Subscribed{"fw-1"});
  other.step(status("etcd-1-abcd", "a1", TaskState::kLost, "u-1"));
  other.step(status(restoring.task_id, restoring.agent_id, TaskState::kFailed, "u-2"));
  EXPECT_TRUE(other.core.total_loss());
  EXPECT_EQ(count<LaunchMember>(other.acked(other.offers({offer("o5", 3)}))), 0u);
}

TEST(CoreRestorePersist, TheRestoredMemberRunningForgetsTheLostRecords) {
  Harness h(persist_config());
  h.step(Recovered{"fw-1", {recorded(1, TaskState::kRunning)}, ""});
  h.step(Subscribed{"fw-1"});
  h.step(status("etcd-1-abcd", "a1", TaskState::kFailed, "u-lost"));
  ASSERT_TRUE(h.core.total_loss());
  h.step(OperatorRestore{kGood});
  auto launches = only<LaunchMember>(h.acked(h.offers({offer("o1", 2)})));
  ASSERT_EQ(launches.size(), 1u);
  auto fx = h.report(launches[0].spec.member, TaskState::kRunning);
  auto forgets = only<ForgetTask>(fx);
  ASSERT_EQ(forgets.size(), 1u);
  EXPECT_EQ(forgets[0].task_id, "etcd-1-abcd");
}

}  // namespace
}  // namespace etcdmesos::core::testing
