// Persist mode: the leadership rule (scheduler_core_persist.cpp,
// "Leadership") and the framework errors Mesos sends. The core keeps
// leading through a ZooKeeper connection loss and, while its subscription
// lives, through a session expiry; it writes to the store only while it
// leads with a live session, and subscribes only while its session cannot
// be gone; it exits when the election names another leader, when Mesos
// says another scheduler subscribed, and when Mesos removed the framework
// (after clearing the store).
#include "core_harness.hpp"

#include <gtest/gtest.h>

namespace etcdmesos::core::testing {
namespace {

// Recovered (nothing persisted yet), subscribed as fw-1, ID persisted.
void lead_and_subscribe(Harness& h) {
  h.step(Recovered{"", {}, ""});
  h.step(LeadershipChanged{true, ZkSession::kConnected, false});
  h.step(Subscribed{"fw-1"});
  h.step(FrameworkIdPersisted{"fw-1", true, ""});
}

std::size_t writes(const std::vector<Effect>& fx) {
  return count<PersistTask>(fx) + count<ForgetTask>(fx) + count<PersistFrameworkId>(fx) +
         count<ClearStore>(fx);
}

TEST(Leadership, AConnectionLossKeepsTheLeaderAndHoldsItsWrites) {
  Harness h(persist_config());
  lead_and_subscribe(h);
  h.step(LeadershipChanged{false, ZkSession::kConnectionLost, false});
  EXPECT_FALSE(h.core.can_persist());
  // A member that starts running meanwhile is recorded only once it is back.
  auto fx = h.offers({offer("o1", 1)});
  EXPECT_EQ(count<LaunchMember>(fx), 0u);
  EXPECT_EQ(count<ExitScheduler>(h.step(Disconnected{})), 0u)
      << "the session lives: nobody else can lead, re-subscribing is safe";
  EXPECT_EQ(count<ExitScheduler>(h.step(Subscribed{"fw-1"})), 0u);
  h.step(LeadershipChanged{false, ZkSession::kConnected, false});  // the election re-checks
  EXPECT_FALSE(h.core.can_persist());
  h.step(LeadershipChanged{true, ZkSession::kConnected, false});
  EXPECT_TRUE(h.core.can_persist());
}

TEST(Leadership, AnExpiredLeaderGoesOnWhileSubscribedAndWritesNothingUntilElectedAgain) {
  Harness h(persist_config());
  lead_and_subscribe(h);
  h.step(LeadershipChanged{false, ZkSession::kConnectionLost, false});
  auto fx = h.step(LeadershipChanged{false, ZkSession::kExpired, false});
  EXPECT_EQ(count<ExitScheduler>(fx), 0u);
  EXPECT_NE(h.core.persist_status().find("expired"), std::string::npos) << h.core.persist_status();
  // A new session, not (yet) elected: still nothing written.
  fx = h.step(LeadershipChanged{false, ZkSession::kConnected, false});
  EXPECT_EQ(count<ExitScheduler>(fx), 0u);
  EXPECT_FALSE(h.core.can_persist());
  // A member running: its record waits.
  fx = h.offers({offer("o1", 1)});
  EXPECT_EQ(writes(fx), 0u);
  EXPECT_EQ(count<LaunchMember>(fx), 0u);
  fx = h.step(LeadershipChanged{true, ZkSession::kConnected, false});
  EXPECT_TRUE(h.core.can_persist());
  EXPECT_EQ(count<ExitScheduler>(fx), 0u);
}

TEST(Leadership, AWriteWishedWhileExpiredIsSentOnceElectedAgain) {
  Harness h(persist_config());
  h.step(Recovered{"fw-1", {}, ""});
  h.step(Subscribed{"fw-1"});
  auto launches = only<LaunchMember>(h.acked(h.offers({offer("o1", 1)})));
  ASSERT_EQ(launches.size(), 1u);
  const Member m = launches[0].spec.member;
  h.step(LeadershipChanged{false, ZkSession::kConnectionLost, false});
  h.step(LeadershipChanged{false, ZkSession::kExpired, false});
  // It runs, then fails: both the record at TASK_RUNNING and its removal
  // wait for the next election.
  EXPECT_EQ(writes(h.report(m, TaskState::kRunning)), 0u);
  EXPECT_EQ(writes(h.advance(10000ms)), 0u);
  auto fx = h.step(LeadershipChanged{true, ZkSession::kConnected, false});
  EXPECT_EQ(count<PersistTask>(fx), 1u) << "the record of the member that ran";
}

TEST(Leadership, WhileExpiredItDoesNotSubscribeAgainUntilElectedAgain) {
  Harness h(persist_config());
  lead_and_subscribe(h);
  h.step(LeadershipChanged{false, ZkSession::kExpired, false});
  EXPECT_EQ(count<ExitScheduler>(h.step(Disconnected{})), 0u);
  EXPECT_FALSE(h.core.may_subscribe(h.now));
  h.step(LeadershipChanged{false, ZkSession::kConnected, false});  // a new session
  EXPECT_FALSE(h.core.may_subscribe(h.now));
  h.step(LeadershipChanged{true, ZkSession::kConnected, false});
  EXPECT_TRUE(h.core.may_subscribe(h.now));
}

TEST(Leadership, CutOffLongerThanTheSessionTimeoutItTakesTheSessionForGone) {
  Harness h(persist_config());
  lead_and_subscribe(h);
  h.step(LeadershipChanged{false, ZkSession::kConnectionLost, false});
  h.step(Disconnected{});
  EXPECT_TRUE(h.core.may_subscribe(h.now)) << "within the session timeout";
  h.advance(5000ms);  // the server may have expired it; the client cannot know yet
  EXPECT_FALSE(h.core.may_subscribe(h.now));
  // Back within the same session: nobody else could lead.
  h.step(LeadershipChanged{true, ZkSession::kConnected, false});
  EXPECT_TRUE(h.core.may_subscribe(h.now));
}

TEST(Leadership, AnotherSchedulerNamedLeaderMakesItExit) {
  Harness h(persist_config());
  lead_and_subscribe(h);
  h.step(LeadershipChanged{false, ZkSession::kExpired, false});
  EXPECT_EQ(count<ExitScheduler>(h.step(LeadershipChanged{false, ZkSession::kConnected, false})),
            0u)
      << "the election has not said who leads yet";
  auto fx = h.step(LeadershipChanged{false, ZkSession::kConnected, true});
  ASSERT_EQ(count<ExitScheduler>(fx), 1u);
  EXPECT_NE(only<ExitScheduler>(fx)[0].reason.find("another scheduler"), std::string::npos);
}

TEST(Leadership, ExpiredBeforeItSubscribedItWaits) {
  Harness h(persist_config());
  h.step(Recovered{"fw-1", {}, ""});
  auto fx = h.step(LeadershipChanged{false, ZkSession::kExpired, false});
  EXPECT_EQ(count<ExitScheduler>(fx), 0u);
  EXPECT_FALSE(h.core.may_subscribe(h.now));
}

TEST(Leadership, DeposedWhileConnectedItExits) {
  Harness h(persist_config());
  lead_and_subscribe(h);
  auto fx = h.step(LeadershipChanged{false, ZkSession::kConnected, false});
  EXPECT_EQ(count<ExitScheduler>(fx), 1u);
}

TEST(Leadership, WithoutPersistenceLeadershipMeansNothing) {
  Harness h(test_config());
  h.step(Subscribed{"fw-1"});
  EXPECT_EQ(count<ExitScheduler>(h.step(LeadershipChanged{false, ZkSession::kExpired, false})), 0u);
  EXPECT_EQ(count<ExitScheduler>(h.step(Disconnected{})), 0u);
  EXPECT_TRUE(h.core.may_subscribe(h.now));
}

TEST(FrameworkErrors, AnotherSchedulerSubscribingMakesThisOneStopAndExit) {
  Harness h(persist_config());
  lead_and_subscribe(h);
  auto fx = h.step(FrameworkError{"Framework failed over"});
  EXPECT_EQ(count<StopSubscribing>(fx), 1u);
  ASSERT_EQ(count<ExitScheduler>(fx), 1u);
  EXPECT_NE(only<ExitScheduler>(fx)[0].reason.find("another scheduler subscribed"),
            std::string::npos);
}

TEST(FrameworkErrors, ARemovedFrameworkClearsTheStoreThenExits) {
  Harness h(persist_config());
  h.step(Recovered{"fw-old", {}, ""});
  auto fx = h.step(FrameworkError{"Framework has been removed"});
  EXPECT_EQ(count<StopSubscribing>(fx), 1u);
  EXPECT_EQ(count<ClearStore>(fx), 1u);
  EXPECT_EQ(count<ExitScheduler>(fx), 0u) << "not before the store is cleared";
  EXPECT_EQ(count<ClearStore>(h.step(FrameworkError{"Framework has been removed"})), 0u);
  fx = h.step(StoreCleared{true, ""});
  ASSERT_EQ(count<ExitScheduler>(fx), 1u);
  const std::string reason = only<ExitScheduler>(fx)[0].reason;
  EXPECT_NE(reason.find("Mesos removed framework 'fw-old'"), std::string::npos) << reason;
  EXPECT_NE(reason.find("was deleted"), std::string::npos) << reason;
}

TEST(FrameworkErrors, ARemovedFrameworkWhoseStoreCannotBeClearedSaysWhatToDelete) {
  Harness h(persist_config());
  h.step(Recovered{"fw-old", {}, ""});
  h.step(FrameworkError{"Framework has been removed"});
  auto fx = h.step(StoreCleared{false, "connection loss"});
  ASSERT_EQ(count<ExitScheduler>(fx), 1u);
  EXPECT_NE(only<ExitScheduler>(fx)[0].reason.find("connection loss"), std::string::npos);
}

TEST(FrameworkErrors, ARemovedFrameworkIsNotClearedByASchedulerThatDoesNotLead) {
  Harness h(persist_config());
  lead_and_subscribe(h);
  h.step(LeadershipChanged{false, ZkSession::kExpired, false});
  auto fx = h.step(FrameworkError{"Framework has been removed"});
  EXPECT_EQ(count<ClearStore>(fx), 0u);
  EXPECT_EQ(count<ExitScheduler>(fx), 1u);
}

TEST(FrameworkErrors, WithoutPersistenceARemovedFrameworkExitsAtOnce) {
  Harness h(test_config());
  h.step(Subscribed{"fw-1"});
  auto fx = h.step(FrameworkError{"Framework has been removed"});
  EXPECT_EQ(count<ClearStore>(fx), 0u);
  EXPECT_EQ(count<ExitScheduler>(fx), 1u);
}

TEST(FrameworkErrors, AnotherErrorChangesNothing) {
  Harness h(persist_config());
  lead_and_subscribe(h);
  auto fx = h.step(FrameworkError{"Framework is not authorized"});
  EXPECT_EQ(count<ExitScheduler>(fx) + count<StopSubscribing>(fx), 0u);
}

TEST(Recovery, AnUnreadableFrameworkIdMakesTheSchedulerExitRatherThanRegisterAnew) {
  Harness h(persist_config());
  auto fx = h.step(Recovered{"", {}, "'/etcd-mesos/etcd/framework_id': not JSON"});
  ASSERT_EQ(count<ExitScheduler>(fx), 1u);
  EXPECT_NE(only<ExitScheduler>(fx)[0].reason.find("not JSON"), std::string::npos);
}

}  // namespace
}  // namespace etcdmesos::core::testing
