// Subscription, offers and sequential growth of a new cluster.
#include "core_harness.hpp"

#include <gtest/gtest.h>

namespace etcdmesos::core::testing {
namespace {

TEST(CoreSubscription, SubscribedEmitsImplicitReconcile) {
  Harness h;
  EXPECT_FALSE(h.core.subscribed());
  auto fx = h.step(Subscribed{"fw-1"});
  EXPECT_TRUE(h.core.subscribed());
  EXPECT_EQ(h.core.framework_id(), "fw-1");
  ASSERT_EQ(count<Reconcile>(fx), 1u);
  EXPECT_TRUE(only<Reconcile>(fx)[0].tasks.empty());
}

TEST(CoreSubscription, OffersBeforeSubscribingAreDeclined) {
  Harness h;
  auto fx = h.offers({offer("o1", 1), offer("o2", 2)});
  EXPECT_EQ(count<LaunchMember>(fx), 0u);
  EXPECT_EQ(only<DeclineOffer>(fx), (std::vector<DeclineOffer>{{"o1", 5}, {"o2", 5}}));
}

TEST(CoreSubscription, OffersAfterDisconnectAreDeclined) {
  Harness h;
  h.step(Subscribed{"fw-1"});
  h.step(Disconnected{});
  EXPECT_FALSE(h.core.subscribed());
  EXPECT_TRUE(h.core.immutable());
  auto fx = h.offers({offer("o1", 1)});
  EXPECT_EQ(count<LaunchMember>(fx), 0u);
  EXPECT_EQ(only<DeclineOffer>(fx), (std::vector<DeclineOffer>{{"o1", 5}}));
}

TEST(CoreGrowth, FirstMemberBootstrapsANewClusterOfItself) {
  Harness h;
  h.step(Subscribed{"fw-1"});
  auto fx = h.offers({offer("o1", 1), offer("o2", 2)});
  auto launches = only<LaunchMember>(fx);
  ASSERT_EQ(launches.size(), 1u);
  const auto& spec = launches[0].spec;
  EXPECT_EQ(launches[0].offer_id, "o1");
  EXPECT_EQ(spec.member.name, "etcd-1");
  EXPECT_EQ(spec.member.agent_id, "a1");
  EXPECT_EQ(spec.member.host, "127.0.0.2");
  EXPECT_EQ(spec.member.peer_port, 31000u);
  EXPECT_EQ(spec.member.client_port, 31001u);
  EXPECT_EQ(spec.cluster_state, "new");
  EXPECT_EQ(spec.initial_cluster, "etcd-1=http://127.0.0.2:31000");
  EXPECT_EQ(spec.cluster_token.rfind("etcd-test-", 0), 0u);
  EXPECT_EQ(spec.cluster_token, h.core.cluster_token());
  // Task id: name, dash, 8 hex digits.
  ASSERT_EQ(spec.member.task_id.size(), std::string("etcd-1-").size() + 8);
  EXPECT_EQ(spec.member.task_id.rfind("etcd-1-", 0), 0u);
  EXPECT_EQ(only<DeclineOffer>(fx), (std::vector<DeclineOffer>{{"o2", 5}}));
  EXPECT_EQ(h.core.stats().launched_servers, 1u);
  ASSERT_EQ(h.core.members().size(), 1u);
  EXPECT_EQ(h.core.members()[0].state, TaskState::kStaging);
}

TEST(CoreGrowth, NothingElseLaunchesWhileTheFirstMemberIsStarting) {
  Harness h;
  h.step(Subscribed{"fw-1"});
  h.offers({offer("o1", 1)});
  auto fx = h.offers({offer("o2", 2)});
  EXPECT_EQ(count<LaunchMember>(fx), 0u);
  EXPECT_EQ(count<AddEtcdMember>(fx), 0u);
  EXPECT_EQ(count<DeclineOffer>(fx), 1u);
  // No member is running yet, so there is nothing to health-check either.
  EXPECT_EQ(count<CheckHealth>(h.advance(30000ms)), 0u);
}

TEST(CoreGrowth, SecondMemberWaitsForAHealthyCheckThatStartedAfterTheFirstRan) {
  Harness h;
  h.step(Subscribed{"fw-1"});
  auto first = only<LaunchMember>(h.offers({offer("o1", 1)}))[0].spec.member;
  h.report(first, TaskState::kRunning);
  EXPECT_EQ(h.core.stats().running_servers, 1u);

  // Running but not yet checked: no growth.
  auto fx = h.offers({offer("o2", 2)});
  EXPECT_EQ(count<AddEtcdMember>(fx), 0u);
  EXPECT_EQ(count<DeclineOffer>(fx), 1u);

  auto check = only<CheckHealth>(h.tick_until_check());
  ASSERT_EQ(check.size(), 1u);
  ASSERT_EQ(check[0].members.size(), 1u);
  EXPECT_EQ(check[0].members[0].name, "etcd-1");

  // Checked but not answered yet: still no growth.
  fx = h.offers({offer("o3", 2)});
  EXPECT_EQ(count<AddEtcdMember>(fx), 0u);

  h.answer_check(true);
  EXPECT_TRUE(h.core.stats().healthy);
  fx = h.offers({offer("o4", 2)});
  auto adds = only<AddEtcdMember>(fx);
  ASSERT_EQ(adds.size(), 1u);
  EXPECT_EQ(adds[0].name, "etcd-2");
  EXPECT_EQ(adds[0].peer_url, "http://127.0.0.3:31000");
  EXPECT_EQ(adds[0].client_urls, std::vector<std::string>{"http://127.0.0.2:31001"});
  // The chosen offer is held: neither launched nor declined.
  EXPECT_EQ(count<DeclineOffer>(fx), 0u);
  EXPECT_EQ(count<LaunchMember>(fx), 0u);
  EXPECT_TRUE(h.core.change_in_flight());
}

TEST(CoreGrowth, EarlyCheckDoesNotLetTheThirdMemberIn) {
  Config c = test_config();
  c.cluster_size = 3;
  Harness h(c);
  h.step(Subscribed{"fw-1"});
  auto first = only<LaunchMember>(h.offers({offer("o1", 1)}))[0].spec.member;
  h.report(first, TaskState::kRunning);
  h.tick_until_check();
  h.answer_check(true);
  h.offers({offer("o2", 2)});
  auto second = only<LaunchMember>(h.step(MemberAdded{"etcd-2", true, 2, ""}))[0].spec.member;
  // A check starts while etcd-2 is still starting ...
  auto early = only<CheckHealth>(h.tick_until_check());
  ASSERT_EQ(early.size(), 1u);
  h.report(second, TaskState::kRunning);
  // ... and answers healthy after etcd-2 ran: it does not count.
  h.answer_check(true);
  auto fx = h.offers({offer("o3", 3)});
  EXPECT_EQ(count<AddEtcdMember>(fx), 0u);
  EXPECT_EQ(count<DeclineOffer>(fx), 1u);
  // A check that starts now does.
  auto fresh = only<CheckHealth>(h.tick_until_check());
  ASSERT_EQ(fresh.size(), 1u);
  EXPECT_EQ(fresh[0].members.size(), 2u);
  h.answer_check(true);
  EXPECT_EQ(count<AddEtcdMember>(h.offers({offer("o4", 3)})), 1u);
}

TEST(CoreGrowth, UnhealthyCheckBlocksGrowth) {
  Harness h;
  h.step(Subscribed{"fw-1"});
  auto first = only<LaunchMember>(h.offers({offer("o1", 1)}))[0].spec.member;
  h.report(first, TaskState::kRunning);
  h.tick_until_check();
  h.answer_check(false);
  EXPECT_FALSE(h.core.stats().healthy);
  auto fx = h.offers({offer("o2", 2)});
  EXPECT_EQ(count<AddEtcdMember>(fx), 0u);
  EXPECT_EQ(count<DeclineOffer>(fx), 1u);
  EXPECT_NE(h.core.plan_reason().find("unhealthy"), std::string::npos);
}

TEST(CoreGrowth, UnreachableMemberBlocksGrowthEvenIfTheVerdictIsHealthy) {
  Harness h;
  h.bring_up(2);
  HealthResult r;
  r.healthy = true;
  for (const auto& m : h.core.members()) {
    r.members.push_back(MemberHealth{m.name, m.name != "etcd-2", 1, 10, 2, ""});
    r.membership.push_back(listed(m, Harness::etcd_id_of(m.name)));
  }
  h.tick_until_check();
  h.advance(5000ms);  // no new check while one is in flight
  h.step(HealthChecked{h.last_check_id, r});
  EXPECT_EQ(count<AddEtcdMember>(h.offers({offer("o3", 3)})), 0u);
}

TEST(CoreGrowth, MemberAddedLaunchesOnTheHeldOfferWithTheFullInitialCluster) {
  Harness h;
  h.bring_up(2);
  h.tick_until_check();
  h.answer_check(true);
  auto add = only<AddEtcdMember>(h.offers({offer("o7", 3, {{32000, 32001}})}));
  ASSERT_EQ(add.size(), 1u);
  EXPECT_EQ(add[0].client_urls,
            (std::vector<std::string>{"http://127.0.0.2:31001", "http://127.0.0.3:31001"}));
  auto fx = h.step(MemberAdded{"etcd-3", true, 77, ""});
  auto launches = only<LaunchMember>(fx);
  ASSERT_EQ(launches.size(), 1u);
  const auto& spec = launches[0].spec;
  EXPECT_EQ(launches[0].offer_id, "o7");
  EXPECT_EQ(spec.member.name, "etcd-3");
  EXPECT_EQ(spec.member.peer_port, 32000u);
  EXPECT_EQ(spec.member.client_port, 32001u);
  EXPECT_EQ(spec.cluster_state, "existing");
  EXPECT_EQ(spec.initial_cluster,
            "etcd-1=http://127.0.0.2:31000,etcd-2=http://127.0.0.3:31000,"
            "etcd-3=http://127.0.0.4:32000");
  EXPECT_EQ(spec.cluster_token, h.core.cluster_token());
  EXPECT_EQ(h.core.stats().launched_servers, 3u);
}

TEST(CoreGrowth, OffersWhileAnAddIsPendingAreDeclined) {
  Harness h;
  h.bring_up(1);
  h.offers({offer("o2", 2)});
  auto fx = h.offers({offer("o3", 3)});
  EXPECT_EQ(count<AddEtcdMember>(fx), 0u);
  EXPECT_EQ(only<DeclineOffer>(fx), (std::vector<DeclineOffer>{{"o3", 5}}));
}

TEST(CoreGrowth, FailedAddDeclinesTheHeldOfferAndRetriesWithANewName) {
  Harness h;
  h.bring_up(1);
  ASSERT_EQ(count<AddEtcdMember>(h.offers({offer("o2", 2)})), 1u);
  auto fx = h.step(MemberAdded{"etcd-2", false, 0, "etcdserver: unhealthy cluster"});
  EXPECT_EQ(count<LaunchMember>(fx), 0u);
  EXPECT_EQ(only<DeclineOffer>(fx), (std::vector<DeclineOffer>{{"o2", 5}}));
  EXPECT_FALSE(h.core.change_in_flight());
  // Retry only after a fresh healthy check; the name is never reused.
  EXPECT_EQ(count<AddEtcdMember>(h.offers({offer("o3", 2)})), 0u);
  h.tick_until_check();
  h.answer_check(true);
  auto adds = only<AddEtcdMember>(h.offers({offer("o4", 2)}));
  ASSERT_EQ(adds.size(), 1u);
  EXPECT_EQ(adds[0].name, "etcd-3");
}

TEST(CoreGrowth, AnswerForAnotherNameIsIgnored) {
  Harness h;
  h.bring_up(1);
  h.offers({offer("o2", 2)});
  auto fx = h.step(MemberAdded{"etcd-9", true, 9, ""});
  EXPECT_TRUE(fx.empty());
  EXPECT_TRUE(h.core.change_in_flight());
}

TEST(CoreGrowth, RescindedHeldOfferIsNotLaunchedAndTheAddedMemberIsRemoved) {
  Harness h;
  h.bring_up(1);
  h.offers({offer("o2", 2)});
  EXPECT_TRUE(h.step(OfferRescinded{"o2"}).empty());
  auto fx = h.step(MemberAdded{"etcd-2", true, 0xabc, ""});
  EXPECT_EQ(count<LaunchMember>(fx), 0u);
  EXPECT_EQ(count<DeclineOffer>(fx), 0u);  // the offer is gone already
  auto removes = only<RemoveEtcdMember>(fx);
  ASSERT_EQ(removes.size(), 1u);
  EXPECT_EQ(removes[0].etcd_id, 0xabcu);
  EXPECT_EQ(removes[0].client_urls, std::vector<std::string>{"http://127.0.0.2:31001"});
  EXPECT_TRUE(h.core.change_in_flight());
  h.step(MemberRemoved{0xabc, true, ""});
  EXPECT_FALSE(h.core.change_in_flight());
  EXPECT_EQ(h.core.stats().launched_servers, 1u);
}

TEST(CoreGrowth, RescindOfAnotherOfferKeepsTheHeldOne) {
  Harness h;
  h.bring_up(1);
  h.offers({offer("o2", 2)});
  h.step(OfferRescinded{"o9"});
  EXPECT_EQ(count<LaunchMember>(h.step(MemberAdded{"etcd-2", true, 2, ""})), 1u);
}

TEST(CoreGrowth, RescindedHeldOfferAndFailedAddDoNothing) {
  Harness h;
  h.bring_up(1);
  h.offers({offer("o2", 2)});
  h.step(OfferRescinded{"o2"});
  auto fx = h.step(MemberAdded{"etcd-2", false, 0, "timeout"});
  EXPECT_TRUE(fx.empty());
  EXPECT_FALSE(h.core.change_in_flight());
}

TEST(CoreGrowth, DisconnectWhileHoldingPreventsTheLaunch) {
  Harness h;
  h.bring_up(1);
  h.offers({offer("o2", 2)});
  h.step(Disconnected{});
  auto fx = h.step(MemberAdded{"etcd-2", true, 5, ""});
  EXPECT_EQ(count<LaunchMember>(fx), 0u);
  EXPECT_EQ(count<DeclineOffer>(fx), 0u);
  EXPECT_EQ(only<RemoveEtcdMember>(fx).size(), 1u);
}

TEST(CoreGrowth, ResubscribingWhileHoldingPreventsTheLaunch) {
  // Mesos offers never survive a new subscription, even without a Disconnected.
  Harness h;
  h.bring_up(1);
  h.offers({offer("o2", 2)});
  h.step(Subscribed{"fw-1"});
  auto fx = h.step(MemberAdded{"etcd-2", true, 5, ""});
  EXPECT_EQ(count<LaunchMember>(fx), 0u);
  EXPECT_EQ(count<DeclineOffer>(fx), 0u);
  EXPECT_EQ(only<RemoveEtcdMember>(fx).size(), 1u);
}

TEST(CoreGrowth, UnansweredAddIsAbandonedAfterTheTimeout) {
  Harness h;
  h.bring_up(1);
  h.offers({offer("o2", 2)});
  auto fx = h.advance(h.core.config().membership_change_timeout);
  EXPECT_EQ(only<DeclineOffer>(fx), (std::vector<DeclineOffer>{{"o2", 5}}));
  EXPECT_FALSE(h.core.change_in_flight());
  // The late answer is ignored.
  EXPECT_EQ(count<LaunchMember>(h.step(MemberAdded{"etcd-2", true, 5, ""})), 0u);
}

TEST(CoreGrowth, FullThreeMemberBringUp) {
  Harness h;
  auto all = h.bring_up(3);
  EXPECT_EQ(count<LaunchMember>(all), 3u);
  EXPECT_EQ(count<AddEtcdMember>(all), 2u);
  ASSERT_EQ(h.core.members().size(), 3u);
  for (const auto& m : h.core.members()) {
    EXPECT_EQ(m.state, TaskState::kRunning);
  }
  EXPECT_EQ(h.core.stats().running_servers, 3u);
  EXPECT_EQ(h.core.stats().launched_servers, 3u);
  EXPECT_EQ(h.core.stats().failed_servers, 0u);
  EXPECT_TRUE(h.core.stats().healthy);
  // Complete: further offers are declined.
  auto fx = h.offers({offer("o9", 9)});
  EXPECT_EQ(count<DeclineOffer>(fx), 1u);
  EXPECT_EQ(count<AddEtcdMember>(fx), 0u);
  // Every launch went to a different agent.
  std::set<std::string> agents;
  for (const auto& m : h.core.members()) {
    agents.insert(m.agent_id);
  }
  EXPECT_EQ(agents.size(), 3u);
}

}  // namespace
}  // namespace etcdmesos::core::testing

namespace etcdmesos::core::testing {
namespace {

// With join_settle (the scheduler sets 5.5 s), the member after one that
// joined an existing cluster is added only once etcd's 5-second check would
// let it in; before that the offer is declined, not spent on a refused add.
TEST(CoreGrowth, NextAddWaitsForTheJoinSettleAfterAMemberJoined) {
  Config c = test_config();
  c.cluster_size = 3;
  c.join_settle = 5500ms;
  Harness h(c);
  h.step(Subscribed{"fw-1"});
  auto first = only<LaunchMember>(h.offers({offer("o1", 1)}))[0].spec.member;
  h.report(first, TaskState::kRunning);
  h.tick_until_check();
  h.answer_check(true);
  // The first member bootstrapped alone: no settle before the second add.
  h.offers({offer("o2", 2)});
  auto second = only<LaunchMember>(h.step(MemberAdded{"etcd-2", true, 2, ""}))[0].spec.member;
  h.report(second, TaskState::kRunning);
  const Millis joined = h.now;
  h.tick_until_check();
  h.answer_check(true);
  ASSERT_LT(h.now, joined + 5500ms);
  auto early = h.offers({offer("o3", 3)});
  EXPECT_EQ(count<AddEtcdMember>(early), 0u);
  EXPECT_EQ(count<DeclineOffer>(early), 1u);
  EXPECT_NE(h.core.plan_reason().find("5-second"), std::string::npos) << h.core.plan_reason();
  while (h.now < joined + 5500ms) {
    h.advance(1000ms);
  }
  // A check after the wait is still needed only if membership changed: it
  // did not, so the earlier healthy check still counts.
  auto adds = only<AddEtcdMember>(h.offers({offer("o4", 3)}));
  ASSERT_EQ(adds.size(), 1u);
  EXPECT_EQ(adds[0].name, "etcd-3");
}

// offer_refuse_seconds_while_growing shortens declines while a member is
// missing, and only then.
TEST(CoreGrowth, DeclinesAreShortWhileTheClusterIsBelowSize) {
  Config c = test_config();
  c.cluster_size = 2;
  c.offer_refuse_seconds_while_growing = 1;
  Harness growing(c);
  growing.step(Subscribed{"fw-1"});
  // etcd-1 launches; one member is still missing (o2 is of the same agent,
  // so no static bootstrap of both).
  auto fx = growing.offers({offer("o1", 1), offer("o2", 1)});
  EXPECT_EQ(only<DeclineOffer>(fx), (std::vector<DeclineOffer>{{"o2", 1}}));

  // Complete once this launch is counted: the configured refusal.
  c.cluster_size = 1;
  Harness complete(c);
  complete.step(Subscribed{"fw-1"});
  fx = complete.offers({offer("o1", 1), offer("o2", 2)});
  EXPECT_EQ(only<DeclineOffer>(fx), (std::vector<DeclineOffer>{{"o2", 5}}));
}

}  // namespace
}  // namespace etcdmesos::core::testing
