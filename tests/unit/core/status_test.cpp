// Status updates: acknowledgements, running/failed members, unknown tasks,
// launch timeouts.
#include "core_harness.hpp"

#include <gtest/gtest.h>

namespace etcdmesos::core::testing {
namespace {

Member launch_first(Harness& h) {
  h.step(Subscribed{"fw-1"});
  return only<LaunchMember>(h.offers({offer("o1", 1)}))[0].spec.member;
}

// launch_first, and the member reports TASK_RUNNING.
Member run_first(Harness& h) {
  auto m = launch_first(h);
  h.report(m, TaskState::kRunning);
  return m;
}

// What Mesos answers when it has no record of the member's agent.
StatusUpdate unknown(const Member& m) {
  return status(m.task_id, m.agent_id, TaskState::kUnknown);
}

TEST(CoreStatus, EveryUuidIsAcknowledgedOnceEvenIfDelivered3Times) {
  Harness h;
  auto m = launch_first(h);
  const auto update = status(m.task_id, "a1", TaskState::kRunning, std::string("u-1"));
  auto first = h.step(update);
  EXPECT_EQ(only<Acknowledge>(first), (std::vector<Acknowledge>{{m.task_id, "a1", "u-1"}}));
  EXPECT_TRUE(h.step(update).empty());
  EXPECT_TRUE(h.step(update).empty());
  EXPECT_EQ(h.core.stats().running_servers, 1u);
  // Another update of the same task has its own uuid.
  auto other = h.step(status(m.task_id, "a1", TaskState::kRunning, std::string("u-2")));
  EXPECT_EQ(count<Acknowledge>(other), 1u);
}

TEST(CoreStatus, UpdatesWithoutUuidAreNotAcknowledgedButApplied) {
  Harness h;
  auto m = launch_first(h);
  auto fx = h.step(status(m.task_id, "a1", TaskState::kRunning));
  EXPECT_EQ(count<Acknowledge>(fx), 0u);
  EXPECT_EQ(h.core.stats().running_servers, 1u);
}

TEST(CoreStatus, AMesosRetryLongAfterTheAckIsAcknowledgedAgain) {
  // Mesos holds back every later update of a task until the current one is
  // acknowledged, so a retry means the acknowledgement was lost.
  Harness h;
  auto m = launch_first(h);
  const auto update = status(m.task_id, "a1", TaskState::kRunning, std::string("u-1"));
  h.step(update);
  h.advance(10000ms);
  auto retry = h.step(update);
  EXPECT_EQ(count<Acknowledge>(retry), 1u);
  EXPECT_EQ(h.core.stats().failed_servers, 0u);
}

TEST(CoreStatus, AfterResubscribingAnUpdateSeenBeforeIsAcknowledgedAgain) {
  Harness h;
  auto m = launch_first(h);
  const auto update = status(m.task_id, "a1", TaskState::kRunning, std::string("u-1"));
  h.step(update);
  h.step(Disconnected{});
  h.step(Subscribed{"fw-1"});
  EXPECT_EQ(count<Acknowledge>(h.step(update)), 1u);
}

TEST(CoreStatus, StagingAndStartingDoNotCountAsRunning) {
  Harness h;
  auto m = launch_first(h);
  h.report(m, TaskState::kStarting);
  EXPECT_EQ(h.core.members()[0].state, TaskState::kStarting);
  EXPECT_EQ(h.core.stats().running_servers, 0u);
  EXPECT_TRUE(h.core.change_in_flight());
  h.report(m, TaskState::kRunning);
  EXPECT_EQ(h.core.stats().running_servers, 1u);
  EXPECT_FALSE(h.core.change_in_flight());
}

TEST(CoreStatus, UnknownNonTerminalTaskIsKilled) {
  Harness h;
  h.step(Subscribed{"fw-1"});
  for (auto state : {TaskState::kRunning, TaskState::kStaging, TaskState::kStarting}) {
    auto fx = h.step(status("etcd-7-deadbeef", "a4", state, h.next_uuid()));
    EXPECT_EQ(only<KillTask>(fx), (std::vector<KillTask>{{"etcd-7-deadbeef", "a4"}}));
    EXPECT_EQ(count<Acknowledge>(fx), 1u);
  }
  EXPECT_TRUE(h.core.members().empty());
}

TEST(CoreStatus, UnknownTerminalTaskIsOnlyAcknowledged) {
  Harness h;
  h.step(Subscribed{"fw-1"});
  auto fx = h.step(status("etcd-7-deadbeef", "a4", TaskState::kFailed, std::string("u")));
  EXPECT_EQ(count<KillTask>(fx), 0u);
  EXPECT_EQ(count<Acknowledge>(fx), 1u);
  EXPECT_EQ(h.core.stats().failed_servers, 0u);
}

TEST(CoreStatus, TerminalStatesFailTheMember) {
  for (auto state : {TaskState::kFinished, TaskState::kFailed, TaskState::kKilled,
                     TaskState::kError, TaskState::kLost, TaskState::kDropped,
                     TaskState::kUnreachable, TaskState::kGone, TaskState::kGoneByOperator}) {
    Harness h;
    auto m = launch_first(h);
    h.report(m, TaskState::kRunning);
    h.report(m, state);
    EXPECT_TRUE(h.core.members().empty()) << to_string(state);
    EXPECT_EQ(h.core.stats().failed_servers, 1u) << to_string(state);
    EXPECT_EQ(h.core.stats().running_servers, 0u) << to_string(state);
  }
}

// TASK_UNKNOWN: the master has no record of the task's agent (after a
// master failover with an in-memory registry, until the agent re-registers).
// Not news of a loss (Config::unknown_task_grace).

// The explicit Reconciles among `fx`.
std::vector<Reconcile> explicit_reconciles(const std::vector<Effect>& fx) {
  auto all = only<Reconcile>(fx);
  std::erase_if(all, [](const Reconcile& r) { return r.tasks.empty(); });
  return all;
}

TEST(CoreStatus, TaskUnknownKeepsTheMemberAndAsksAgainUntilMesosKnowsIt) {
  Harness h;
  auto m = run_first(h);
  auto fx = h.step(unknown(m));
  EXPECT_TRUE(fx.empty());
  ASSERT_EQ(h.core.members().size(), 1u);
  EXPECT_EQ(h.core.members()[0].state, TaskState::kRunning);
  EXPECT_EQ(h.core.stats().failed_servers, 0u);
  // Asked again after unknown_task_recheck, only about that task.
  EXPECT_TRUE(explicit_reconciles(h.advance(h.core.config().unknown_task_recheck - 1ms)).empty());
  auto again = explicit_reconciles(h.advance(1ms));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].tasks,
            (std::vector<std::pair<std::string, std::string>>{{m.task_id, m.agent_id}}));
  // The agent re-registered: Mesos knows the task again, no more asking.
  h.step(status(m.task_id, m.agent_id, TaskState::kRunning));
  for (int i = 0; i < 30; ++i) {
    EXPECT_TRUE(explicit_reconciles(h.advance(1000ms)).empty());
  }
  EXPECT_EQ(h.core.members().size(), 1u);
  EXPECT_EQ(h.core.stats().running_servers, 1u);
}

TEST(CoreStatus, TaskUnknownPastTheGraceIsALoss) {
  Harness h;
  auto m = run_first(h);
  const Millis grace = h.core.config().unknown_task_grace;
  h.step(unknown(m));
  h.advance(grace - 1ms);
  h.step(unknown(m));
  EXPECT_EQ(h.core.members().size(), 1u);
  // The clock alone decides nothing: only an answer after the grace does.
  h.advance(10000ms);
  EXPECT_EQ(h.core.members().size(), 1u);
  h.step(unknown(m));
  EXPECT_TRUE(h.core.members().empty());
  EXPECT_EQ(h.core.stats().failed_servers, 1u);
}

TEST(CoreStatus, ANewSubscriptionGivesAnUnknownTaskTheWholeGraceAgain) {
  Harness h;
  auto m = run_first(h);
  const Millis grace = h.core.config().unknown_task_grace;
  h.step(unknown(m));
  h.advance(grace - 1000ms);
  // Another master failover: the new master may not know the agent either.
  h.step(Disconnected{});
  h.step(Subscribed{"fw-1"});
  h.step(unknown(m));
  h.advance(grace - 1000ms);
  h.step(unknown(m));
  EXPECT_EQ(h.core.members().size(), 1u);
  h.advance(1000ms);
  h.step(unknown(m));
  EXPECT_TRUE(h.core.members().empty());
}

TEST(CoreStatus, TaskKnownAgainRightAfterTheGraceStays) {
  Harness h;
  auto m = run_first(h);
  h.step(unknown(m));
  h.advance(h.core.config().unknown_task_grace + 5000ms);
  // The agent came back before the next answer: that answer decides.
  h.step(status(m.task_id, m.agent_id, TaskState::kRunning));
  EXPECT_EQ(h.core.members().size(), 1u);
  // A later TASK_UNKNOWN starts a grace of its own.
  h.step(unknown(m));
  EXPECT_EQ(h.core.members().size(), 1u);
}

TEST(CoreStatus, NoRecheckOfAnUnknownTaskWhileDisconnected) {
  Harness h;
  auto m = run_first(h);
  h.step(unknown(m));
  h.step(Disconnected{});
  EXPECT_EQ(count<Reconcile>(h.advance(h.core.config().unknown_task_recheck * 3)), 0u);
}

TEST(CoreStatus, AReplacedMemberThatComesBackIsKilledNotReadmitted) {
  Harness h;
  auto m = launch_first(h);
  h.report(m, TaskState::kRunning);
  h.report(m, TaskState::kLost);
  // Its agent re-registers and the task reports TASK_RUNNING again.
  auto fx = h.report(m, TaskState::kRunning);
  EXPECT_EQ(only<KillTask>(fx), (std::vector<KillTask>{{m.task_id, "a1"}}));
  EXPECT_TRUE(h.core.members().empty());
  EXPECT_EQ(h.core.stats().running_servers, 0u);
}

TEST(CoreStatus, LaunchTimeoutKillsTheMemberAndCountsItFailed) {
  Harness h;
  auto m = launch_first(h);
  h.report(m, TaskState::kStarting);
  EXPECT_TRUE(h.advance(59000ms).empty());
  auto fx = h.advance(1000ms);
  EXPECT_EQ(only<KillTask>(fx), (std::vector<KillTask>{{m.task_id, "a1"}}));
  EXPECT_TRUE(h.core.members().empty());
  EXPECT_EQ(h.core.stats().failed_servers, 1u);
  // A late TASK_RUNNING of the killed task is killed again.
  EXPECT_EQ(count<KillTask>(h.report(m, TaskState::kRunning)), 1u);
  // The cluster never ran, so it is bootstrapped afresh with a new name, and
  // not on the agent where the member just failed.
  auto again = h.offers({offer("o2", 1), offer("o3", 2)});
  auto launches = only<LaunchMember>(again);
  ASSERT_EQ(launches.size(), 1u);
  EXPECT_EQ(launches[0].spec.member.name, "etcd-2");
  EXPECT_EQ(launches[0].spec.member.agent_id, "a2");
  EXPECT_EQ(launches[0].spec.cluster_state, "new");
  EXPECT_EQ(launches[0].spec.initial_cluster, "etcd-2=http://127.0.0.3:31000");
  EXPECT_FALSE(h.core.locked());
}

TEST(CoreStatus, NoLaunchTimeoutWhileDisconnected) {
  Harness h;
  auto m = launch_first(h);
  h.step(Disconnected{});
  EXPECT_TRUE(h.advance(120000ms).empty());
  ASSERT_EQ(h.core.members().size(), 1u);
  // After resubscribing the member gets its full launch timeout again.
  h.step(Subscribed{"fw-1"});
  EXPECT_EQ(count<KillTask>(h.advance(59000ms)), 0u);
  EXPECT_EQ(count<KillTask>(h.advance(1000ms)), 1u);
}

TEST(CoreStatus, StatsCountLaunchedRunningAndFailed) {
  Harness h;
  h.bring_up(2);
  EXPECT_EQ(h.core.stats().launched_servers, 2u);
  EXPECT_EQ(h.core.stats().running_servers, 2u);
  h.report(*h.member("etcd-2"), TaskState::kFailed);
  EXPECT_EQ(h.core.stats().running_servers, 1u);
  EXPECT_EQ(h.core.stats().failed_servers, 1u);
  EXPECT_EQ(h.core.stats().launched_servers, 2u);
}

}  // namespace
}  // namespace etcdmesos::core::testing

namespace etcdmesos::core::testing {
namespace {

// A late TASK_STARTING (reordered, or generated by the master when the agent
// re-registers) after TASK_RUNNING must not make the member "starting"
// again: it would drop out of health checks for good (simulator seed 21809).
TEST(CoreStatus, ALateStartingAfterRunningChangesNothing) {
  Harness h;
  h.step(Subscribed{"fw-1"});
  auto first = only<LaunchMember>(h.offers({offer("o1", 1)}))[0].spec.member;
  h.report(first, TaskState::kRunning);
  h.report(first, TaskState::kStarting);
  ASSERT_EQ(h.core.members().size(), 1u);
  EXPECT_EQ(h.core.members()[0].state, TaskState::kRunning);
  auto checks = only<CheckHealth>(h.tick_until_check());
  ASSERT_EQ(checks.size(), 1u);
  ASSERT_EQ(checks[0].members.size(), 1u);
  EXPECT_EQ(checks[0].members[0].name, first.name);
}

}  // namespace
}  // namespace etcdmesos::core::testing
