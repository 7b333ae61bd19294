// Static bootstrap (issue 12, item 1): with no cluster yet, every member is
// launched at once with one initial cluster; too few agents within the
// window fall back to one-at-a-time growth. And the waits before a join
// (item 4): etcd's 5-second check applies only where etcd applies it.
#include "core_harness.hpp"

#include <gtest/gtest.h>

namespace etcdmesos::core::testing {
namespace {

Config window_config(Millis window, std::size_t size = 3) {
  Config c = test_config();
  c.cluster_size = size;
  c.bootstrap_window = window;
  c.offer_refuse_seconds_while_growing = 1;
  c.join_settle = 5500ms;
  return c;
}

const char* const kInitialOfThree =
    "etcd-1=http://127.0.0.2:31000,etcd-2=http://127.0.0.3:31000,etcd-3=http://127.0.0.4:31000";

// Every launch in `launches` is part of one new cluster: state new, one
// token, one initial cluster that names every launched member.
void expect_one_new_cluster(const std::vector<LaunchMember>& launches, const std::string& initial) {
  ASSERT_FALSE(launches.empty());
  for (const auto& l : launches) {
    EXPECT_EQ(l.spec.cluster_state, "new");
    EXPECT_EQ(l.spec.initial_cluster, initial);
    EXPECT_EQ(l.spec.cluster_token, launches[0].spec.cluster_token);
    EXPECT_NE(initial.find(l.spec.member.name + "=" + l.spec.member.peer_url()), std::string::npos)
        << l.spec.member.name;
  }
}

TEST(CoreBootstrap, OffersOfEveryMemberInOneEventLaunchThemAllAtOnce) {
  Harness h(window_config(0ms));
  h.step(Subscribed{"fw-1"});
  auto fx = h.offers({offer("o1", 1), offer("o2", 2), offer("o3", 3), offer("o4", 4)});
  auto launches = only<LaunchMember>(fx);
  ASSERT_EQ(launches.size(), 3u);
  expect_one_new_cluster(launches, kInitialOfThree);
  EXPECT_EQ(launches[0].offer_id, "o1");
  EXPECT_EQ(launches[1].offer_id, "o2");
  EXPECT_EQ(launches[2].offer_id, "o3");
  EXPECT_EQ(launches[0].spec.cluster_token, h.core.cluster_token());
  EXPECT_EQ(only<DeclineOffer>(fx), (std::vector<DeclineOffer>{{"o4", 5}}));
  EXPECT_EQ(h.core.stats().launched_servers, 3u);
  EXPECT_EQ(h.core.members().size(), 3u);
  EXPECT_NE(h.core.plan_reason().find("at once"), std::string::npos) << h.core.plan_reason();
  // Until they run nothing else changes.
  EXPECT_TRUE(h.core.change_in_flight());
  EXPECT_EQ(count<LaunchMember>(h.offers({offer("o5", 5)})), 0u);
}

TEST(CoreBootstrap, OffersAreHeldWithinTheWindowUntilEveryMemberHasOne) {
  Harness h(window_config(2000ms));
  h.step(Subscribed{"fw-1"});
  auto fx = h.offers({offer("o1", 1)});
  EXPECT_EQ(count<LaunchMember>(fx), 0u);
  EXPECT_EQ(count<DeclineOffer>(fx), 0u);  // held
  EXPECT_NE(h.core.plan_reason().find("holding offers of 1 of 3 agents"), std::string::npos)
      << h.core.plan_reason();
  fx = h.advance(500ms);
  EXPECT_EQ(count<LaunchMember>(fx), 0u);
  EXPECT_EQ(count<DeclineOffer>(fx), 0u);
  // A second offer of the same agent is not held (one member per agent).
  fx = h.offers({offer("o2", 1), offer("o3", 2)});
  EXPECT_EQ(only<DeclineOffer>(fx), (std::vector<DeclineOffer>{{"o2", 1}}));
  EXPECT_EQ(count<LaunchMember>(fx), 0u);
  fx = h.advance(500ms);
  fx = h.offers({offer("o4", 3)});
  auto launches = only<LaunchMember>(fx);
  ASSERT_EQ(launches.size(), 3u);
  expect_one_new_cluster(launches, kInitialOfThree);
  EXPECT_EQ(launches[0].offer_id, "o1");
  EXPECT_EQ(launches[1].offer_id, "o3");
  EXPECT_EQ(launches[2].offer_id, "o4");
  EXPECT_EQ(count<DeclineOffer>(fx), 0u);
}

TEST(CoreBootstrap, TooFewAgentsWhenTheWindowEndsFallBackToOneAtATime) {
  Harness h(window_config(2000ms));
  h.step(Subscribed{"fw-1"});
  h.offers({offer("o1", 1), offer("o2", 2)});
  EXPECT_EQ(count<LaunchMember>(h.advance(1000ms)), 0u);
  auto fx = h.advance(1000ms);
  auto launches = only<LaunchMember>(fx);
  ASSERT_EQ(launches.size(), 1u);
  EXPECT_EQ(launches[0].offer_id, "o1");
  EXPECT_EQ(launches[0].spec.cluster_state, "new");
  EXPECT_EQ(launches[0].spec.initial_cluster, "etcd-1=http://127.0.0.2:31000");
  EXPECT_EQ(only<DeclineOffer>(fx), (std::vector<DeclineOffer>{{"o2", 1}}));
  EXPECT_NE(h.core.plan_reason().find("only 2 of 3 agents offered within 2s"), std::string::npos)
      << h.core.plan_reason();
  EXPECT_NE(h.core.plan_reason().find("one-at-a-time"), std::string::npos);

  // The rest grows as before: a check, then an etcd add.
  h.report(launches[0].spec.member, TaskState::kRunning);
  h.tick_until_check();
  h.answer_check(true);
  auto adds = only<AddEtcdMember>(h.offers({offer("o3", 2)}));
  ASSERT_EQ(adds.size(), 1u);
  EXPECT_EQ(adds[0].name, "etcd-2");
}

TEST(CoreBootstrap, WithoutAWindowTooFewOffersStartTheFirstMemberAtOnce) {
  Harness h(window_config(0ms));
  h.step(Subscribed{"fw-1"});
  auto fx = h.offers({offer("o1", 1), offer("o2", 2)});
  ASSERT_EQ(only<LaunchMember>(fx).size(), 1u);
  EXPECT_EQ(only<LaunchMember>(fx)[0].spec.initial_cluster, "etcd-1=http://127.0.0.2:31000");
  EXPECT_EQ(only<DeclineOffer>(fx), (std::vector<DeclineOffer>{{"o2", 1}}));
  EXPECT_NE(h.core.plan_reason().find("one-at-a-time"), std::string::npos);
}

TEST(CoreBootstrap, OneMemberPerAgentUnlessSingleInstancePerAgentIsOff) {
  Harness one(window_config(0ms));
  one.step(Subscribed{"fw-1"});
  auto fx = one.offers({offer("o1", 1), offer("o2", 1), offer("o3", 2)});
  EXPECT_EQ(only<LaunchMember>(fx).size(), 1u);  // two agents for three members

  Config c = window_config(0ms);
  c.single_instance_per_agent = false;
  Harness shared(c);
  shared.step(Subscribed{"fw-1"});
  fx = shared.offers({offer("o1", 1), offer("o2", 1), offer("o3", 2)});
  auto launches = only<LaunchMember>(fx);
  ASSERT_EQ(launches.size(), 3u);
  EXPECT_EQ(launches[0].spec.member.agent_id, "a1");
  EXPECT_EQ(launches[1].spec.member.agent_id, "a1");
  EXPECT_EQ(launches[2].spec.member.agent_id, "a2");
  EXPECT_EQ(launches[2].spec.initial_cluster, launches[0].spec.initial_cluster);
}

TEST(CoreBootstrap, ARescindedHeldOfferIsForgottenAndAnotherTakesItsPlace) {
  Harness h(window_config(2000ms));
  h.step(Subscribed{"fw-1"});
  h.offers({offer("o1", 1), offer("o2", 2)});
  auto fx = h.step(OfferRescinded{"o1"});
  EXPECT_EQ(count<DeclineOffer>(fx), 0u);  // not ours any more
  fx = h.offers({offer("o3", 3), offer("o4", 4)});
  auto launches = only<LaunchMember>(fx);
  ASSERT_EQ(launches.size(), 3u);
  EXPECT_EQ(launches[0].offer_id, "o2");
  EXPECT_EQ(launches[1].offer_id, "o3");
  EXPECT_EQ(launches[2].offer_id, "o4");
}

TEST(CoreBootstrap, HeldOffersDieWithTheConnection) {
  Harness h(window_config(2000ms));
  h.step(Subscribed{"fw-1"});
  h.offers({offer("o1", 1), offer("o2", 2)});
  auto fx = h.step(Disconnected{});
  EXPECT_EQ(count<DeclineOffer>(fx), 0u);
  h.step(Subscribed{"fw-1"});
  fx = h.advance(3000ms);
  EXPECT_EQ(count<LaunchMember>(fx), 0u);  // nothing held any more
  fx = h.offers({offer("o3", 1), offer("o4", 2), offer("o5", 3)});
  auto launches = only<LaunchMember>(fx);
  ASSERT_EQ(launches.size(), 3u);
  EXPECT_EQ(launches[0].offer_id, "o3");
}

TEST(CoreBootstrap, HeldOffersOfALostAgentAreDeclinedAndNotUsed) {
  Harness h(window_config(2000ms));
  h.step(Subscribed{"fw-1"});
  h.offers({offer("o1", 1), offer("o2", 2)});
  auto fx = h.step(AgentLost{"a1"});
  EXPECT_EQ(only<DeclineOffer>(fx), (std::vector<DeclineOffer>{{"o1", 1}}));
  fx = h.offers({offer("o3", 3), offer("o4", 4)});
  auto launches = only<LaunchMember>(fx);
  ASSERT_EQ(launches.size(), 3u);
  EXPECT_EQ(launches[0].offer_id, "o2");
}

// Persist mode: every record is written before any member launches, and the
// members go out together once the last record landed.
TEST(CoreBootstrap, EveryRecordIsWrittenBeforeAnyMemberLaunches) {
  Config c = persist_config();
  c.bootstrap_window = 0ms;
  Harness h(c);
  h.step(Subscribed{"fw-1"});
  h.step(FrameworkIdPersisted{"fw-1", true, ""});
  auto fx = h.offers({offer("o1", 1), offer("o2", 2), offer("o3", 3)});
  auto records = only<PersistTask>(fx);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(count<LaunchMember>(fx), 0u);
  EXPECT_EQ(count<DeclineOffer>(fx), 0u);
  EXPECT_EQ(count<LaunchMember>(h.step(TaskPersisted{records[0].member.task_id, false, true, ""})),
            0u);
  EXPECT_EQ(count<LaunchMember>(h.step(TaskPersisted{records[2].member.task_id, false, true, ""})),
            0u);
  fx = h.step(TaskPersisted{records[1].member.task_id, false, true, ""});
  auto launches = only<LaunchMember>(fx);
  ASSERT_EQ(launches.size(), 3u);
  expect_one_new_cluster(launches, kInitialOfThree);
  EXPECT_EQ(launches[0].spec.member.task_id, records[0].member.task_id);
  EXPECT_EQ(h.core.stats().launched_servers, 3u);
}

TEST(CoreBootstrap, AFailedRecordGivesTheWholeBootstrapUpAndTheNextOffersStartAfresh) {
  Config c = persist_config();
  Harness h(c);
  h.step(Subscribed{"fw-1"});
  h.step(FrameworkIdPersisted{"fw-1", true, ""});
  auto records = only<PersistTask>(h.offers({offer("o1", 1), offer("o2", 2), offer("o3", 3)}));
  ASSERT_EQ(records.size(), 3u);
  const std::string first_token = h.core.cluster_token();
  h.step(TaskPersisted{records[0].member.task_id, false, true, ""});
  auto fx = h.step(TaskPersisted{records[1].member.task_id, false, false, "connection loss"});
  EXPECT_EQ(count<LaunchMember>(fx), 0u);
  auto declines = only<DeclineOffer>(fx);
  ASSERT_EQ(declines.size(), 3u);  // every held offer goes back
  EXPECT_TRUE(h.core.members().empty());
  EXPECT_FALSE(h.core.change_in_flight());
  // The last record lands late: it launches nothing.
  EXPECT_EQ(count<LaunchMember>(h.step(TaskPersisted{records[2].member.task_id, false, true, ""})),
            0u);
  // Once the store works again, the next offers bootstrap a new cluster.
  h.advance(c.persist_retry_interval);
  for (const auto& e : h.history) {
    if (const auto* f = std::get_if<ForgetTask>(&e)) {
      h.step(TaskPersisted{f->task_id, true, true, ""});
    }
  }
  for (const auto& r : records) {
    h.step(TaskPersisted{r.member.task_id, true, true, ""});
  }
  ASSERT_TRUE(h.core.can_persist()) << h.core.persist_status();
  auto launches =
      only<LaunchMember>(h.acked(h.offers({offer("o4", 1), offer("o5", 2), offer("o6", 3)})));
  ASSERT_EQ(launches.size(), 3u);
  EXPECT_NE(launches[0].spec.cluster_token, first_token);
  EXPECT_EQ(launches[0].spec.member.name, "etcd-4");  // names are never reused
}

TEST(CoreBootstrap, ARescindedOfferOfAHeldLaunchDeclinesTheOthers) {
  Harness h(persist_config());
  h.step(Subscribed{"fw-1"});
  h.step(FrameworkIdPersisted{"fw-1", true, ""});
  auto records = only<PersistTask>(h.offers({offer("o1", 1), offer("o2", 2), offer("o3", 3)}));
  ASSERT_EQ(records.size(), 3u);
  auto fx = h.step(OfferRescinded{"o2"});
  std::vector<DeclineOffer> expected{{"o1", 5}, {"o3", 5}};
  auto declines = only<DeclineOffer>(fx);
  std::sort(declines.begin(), declines.end(),
            [](const auto& a, const auto& b) { return a.offer_id < b.offer_id; });
  EXPECT_EQ(declines, expected);
  EXPECT_TRUE(h.core.members().empty());
  for (const auto& r : records) {
    EXPECT_EQ(count<LaunchMember>(h.step(TaskPersisted{r.member.task_id, false, true, ""})), 0u);
  }
}

// After the launch, a member that fails is the ordinary repair's business:
// the others form the cluster, etcd lists the dead one, it is removed and
// replaced through an add.
TEST(CoreBootstrap, AMemberThatFailsAfterTheLaunchIsRemovedAndReplaced) {
  Harness h(window_config(0ms));
  h.step(Subscribed{"fw-1"});
  auto launches = only<LaunchMember>(h.offers({offer("o1", 1), offer("o2", 2), offer("o3", 3)}));
  ASSERT_EQ(launches.size(), 3u);
  const Member dead = launches[1].spec.member;
  h.report(dead, TaskState::kFailed);
  h.report(launches[0].spec.member, TaskState::kRunning);
  h.report(launches[2].spec.member, TaskState::kRunning);
  // No second cluster is bootstrapped over the one that formed.
  auto fx = h.offers({offer("o4", 4)});
  EXPECT_EQ(count<LaunchMember>(fx), 0u);
  h.tick_until_check();
  const uint64_t dead_id = Harness::etcd_id_of(dead.name);
  auto removes = only<RemoveEtcdMember>(h.answer_check(true, {listed(dead, dead_id)}));
  ASSERT_EQ(removes.size(), 1u);
  EXPECT_EQ(removes[0].etcd_id, dead_id);
  h.step(MemberRemoved{dead_id, true, ""});
  h.tick_until_check();
  h.answer_check(true);
  // etcd's 5-second check: the two members started together a moment ago.
  EXPECT_EQ(count<AddEtcdMember>(h.offers({offer("o5", 4)})), 0u);
  h.advance(5500ms);
  auto adds = only<AddEtcdMember>(h.offers({offer("o6", 4)}));
  ASSERT_EQ(adds.size(), 1u);
  EXPECT_EQ(adds[0].name, "etcd-4");
}

TEST(CoreBootstrap, EveryMemberLostBeforeOneRanBootstrapsAgain) {
  Harness h(window_config(0ms));
  h.step(Subscribed{"fw-1"});
  auto launches = only<LaunchMember>(h.offers({offer("o1", 1), offer("o2", 2), offer("o3", 3)}));
  ASSERT_EQ(launches.size(), 3u);
  const std::string token = h.core.cluster_token();
  for (const auto& l : launches) {
    h.report(l.spec.member, TaskState::kFailed);
  }
  EXPECT_FALSE(h.core.locked());
  h.advance(2000ms);  // past the crashed agents' backoff
  auto again = only<LaunchMember>(h.offers({offer("o4", 1), offer("o5", 2), offer("o6", 3)}));
  ASSERT_EQ(again.size(), 3u);
  EXPECT_NE(again[0].spec.cluster_token, token);
  EXPECT_EQ(again[0].spec.cluster_state, "new");
}

// Found by the simulator (seed 235): once one member of a static bootstrap
// ran, the cluster exists and the others join it as they start; the loss of
// the one that reported running is no total loss while they may serve.
TEST(CoreBootstrap, OnceOneMemberRanTheOthersCountAsHoldersOfTheData) {
  Harness h(window_config(0ms));
  h.step(Subscribed{"fw-1"});
  auto launches = only<LaunchMember>(h.offers({offer("o1", 1), offer("o2", 2), offer("o3", 3)}));
  ASSERT_EQ(launches.size(), 3u);
  h.report(launches[0].spec.member, TaskState::kRunning);
  h.report(launches[0].spec.member, TaskState::kFailed);
  EXPECT_FALSE(h.core.locked()) << h.core.lock_reason();
  auto fx = h.offers({offer("o4", 4), offer("o5", 5), offer("o6", 1)});
  EXPECT_EQ(count<LaunchMember>(fx), 0u);
  // Only when they are gone too is it a total loss.
  h.report(launches[1].spec.member, TaskState::kFailed);
  h.report(launches[2].spec.member, TaskState::kFailed);
  EXPECT_TRUE(h.core.locked());
}

TEST(CoreBootstrap, AMajorityLostAfterOneRanBootstrapsNothingOverIt) {
  Harness h(window_config(0ms));
  h.step(Subscribed{"fw-1"});
  auto launches = only<LaunchMember>(h.offers({offer("o1", 1), offer("o2", 2), offer("o3", 3)}));
  ASSERT_EQ(launches.size(), 3u);
  h.report(launches[0].spec.member, TaskState::kRunning);
  h.report(launches[1].spec.member, TaskState::kFailed);
  h.report(launches[2].spec.member, TaskState::kLost);
  for (int i = 0; i < 10; ++i) {
    auto fx = h.advance(1000ms);
    if (count<CheckHealth>(fx) > 0) {
      h.answer_check(false);
    }
    fx = h.offers({offer("o" + std::to_string(10 + i), 4)});
    EXPECT_EQ(count<LaunchMember>(fx), 0u);
    EXPECT_EQ(count<AddEtcdMember>(fx), 0u);
  }
  EXPECT_EQ(h.core.members().size(), 1u);
}

// Item 4: the 5-second wait only where etcd's strict reconfiguration check
// applies.
TEST(CoreJoinSettle, AOneMemberClusterAddsItsSecondMemberAtOnce) {
  Harness h(window_config(0ms));
  h.step(Subscribed{"fw-1"});
  auto first = only<LaunchMember>(h.offers({offer("o1", 1)}))[0].spec.member;
  h.report(first, TaskState::kRunning);
  h.tick_until_check();  // 1 s: well within 5 s of etcd-1's start
  h.answer_check(true);
  EXPECT_EQ(count<AddEtcdMember>(h.offers({offer("o2", 2)})), 1u);
}

TEST(CoreJoinSettle, AJoinerThatLeftAgainDoesNotDelayTheNextAdd) {
  Harness h(window_config(0ms));
  h.bring_up(2);
  h.advance(6000ms);
  h.tick_until_check();
  h.answer_check(true);
  auto adds = only<AddEtcdMember>(h.offers({offer("o3", 3)}));
  ASSERT_EQ(adds.size(), 1u);
  auto third =
      only<LaunchMember>(h.step(MemberAdded{"etcd-3", true, Harness::etcd_id_of("etcd-3"), ""}));
  ASSERT_EQ(third.size(), 1u);
  h.report(third[0].spec.member, TaskState::kRunning);
  // etcd-3 fails a second later: once it is removed, etcd-1 and etcd-2 have
  // been connected for long, and etcd lets the replacement's add through.
  h.advance(1000ms);
  h.report(third[0].spec.member, TaskState::kFailed);
  h.tick_until_check();
  const uint64_t id = Harness::etcd_id_of("etcd-3");
  ASSERT_EQ(count<RemoveEtcdMember>(h.answer_check(true, {listed(third[0].spec.member, id)})), 1u);
  h.step(MemberRemoved{id, true, ""});
  h.tick_until_check();
  h.answer_check(true);
  auto replacement = only<AddEtcdMember>(h.offers({offer("o4", 4)}));
  ASSERT_EQ(replacement.size(), 1u);
  EXPECT_EQ(replacement[0].name, "etcd-4");
}

}  // namespace
}  // namespace etcdmesos::core::testing
