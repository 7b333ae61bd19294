// Live resize (POST /cluster-size): growing through the usual path, shrinking
// one member at a time (removed from etcd first, then killed; never the
// leader; an unreachable member first; never below a reachable majority),
// and the size kept in the store before it takes effect.
#include "core/cluster_plan.hpp"
#include "core_harness.hpp"

#include <gtest/gtest.h>

#include <set>

namespace etcdmesos::core::testing {
namespace {

// Answers the in-flight check as healthy, every running member naming
// `leader` as the leader; `unreachable` members did not answer.
std::vector<Effect> answer_with_leader(Harness& h, const std::string& leader,
                                       const std::set<std::string>& unreachable = {}) {
  HealthResult r;
  r.healthy = true;
  for (const auto& m : h.core.members()) {
    if (m.state == TaskState::kRunning) {
      const bool down = unreachable.contains(m.name);
      r.members.push_back(MemberHealth{m.name, !down, down ? 0 : Harness::etcd_id_of(leader),
                                       down ? 0u : 10u, down ? 0u : 2u,
                                       down ? "connection refused" : ""});
    }
    r.membership.push_back(listed(m, Harness::etcd_id_of(m.name)));
  }
  return h.step(HealthChecked{h.last_check_id, std::move(r)});
}

// A fresh healthy check naming `leader`, as the next resize sees it.
void fresh_check(Harness& h, const std::string& leader,
                 const std::set<std::string>& unreachable = {}) {
  h.tick_until_check();
  answer_with_leader(h, leader, unreachable);
}

std::vector<std::string> names(const std::vector<Member>& members) {
  std::vector<std::string> out;
  for (const auto& m : members) {
    out.push_back(m.name);
  }
  return out;
}

Config config_of_size(std::size_t size, Config c = test_config()) {
  c.cluster_size = size;
  return c;
}

TEST(CoreResize, AGrowAddsMembersOneAtATimeThroughTheUsualPath) {
  Harness h;
  h.bring_up(3);
  // Agents a4 and a5 have offered: five agents are known.
  h.offers({offer("o4", 4), offer("o5", 5)});
  ASSERT_FALSE(h.core.why_not_resize(5));
  h.step(OperatorResize{5});
  EXPECT_EQ(h.core.cluster_size(), 5u);
  h.tick_until_check();
  h.answer_check(true);
  auto adds = only<AddEtcdMember>(h.offers({offer("o6", 4), offer("o7", 5)}));
  ASSERT_EQ(adds.size(), 1u);  // one change at a time
  EXPECT_EQ(adds[0].name, "etcd-4");
}

TEST(CoreResize, SizesThatCannotBeKeptAreRefusedWithTheReason) {
  Harness h;
  h.bring_up(3);
  for (std::size_t bad : {0u, 2u, 4u, 11u}) {
    auto why = h.core.why_not_resize(bad);
    ASSERT_TRUE(why) << bad;
    EXPECT_NE(why->find("1, 3, 5, 7 or 9"), std::string::npos) << *why;
  }
  // Three agents have offered: five members would never all run.
  auto why = h.core.why_not_resize(5);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("only 3 agent(s)"), std::string::npos) << *why;
  // A refused size fed anyway changes nothing.
  h.step(OperatorResize{5});
  h.step(OperatorResize{4});
  EXPECT_EQ(h.core.cluster_size(), 3u);
  // The same size again is fine and changes nothing either.
  EXPECT_FALSE(h.core.why_not_resize(3));
  // An agent reported lost no longer counts.
  h.offers({offer("o4", 4), offer("o5", 5)});
  EXPECT_FALSE(h.core.why_not_resize(5));
  h.step(AgentLost{"a5"});
  EXPECT_TRUE(h.core.why_not_resize(5));
}

TEST(CoreResize, AShrinkRemovesTheNewestNonLeaderFromEtcdAndKillsItOnlyOnceRemoved) {
  Harness h(config_of_size(5));
  h.bring_up(5);
  ASSERT_EQ(h.core.members().size(), 5u);
  fresh_check(h, "etcd-5");
  // etcd-5, the newest, leads: etcd-4 goes first, at once (the check is fresh).
  auto fx = h.step(OperatorResize{3});
  EXPECT_EQ(h.core.cluster_size(), 3u);
  auto removes = only<RemoveEtcdMember>(fx);
  ASSERT_EQ(removes.size(), 1u);
  EXPECT_EQ(removes[0].etcd_id, Harness::etcd_id_of("etcd-4"));
  EXPECT_EQ(count<KillTask>(fx), 0u);  // not before etcd removed it
  const Member four = *h.member("etcd-4");
  // While the removal is in flight nothing else changes.
  EXPECT_EQ(count<RemoveEtcdMember>(h.tick_until_check()), 0u);
  EXPECT_EQ(count<RemoveEtcdMember>(answer_with_leader(h, "etcd-5")), 0u);

  fx = h.step(MemberRemoved{Harness::etcd_id_of("etcd-4"), true, ""});
  auto kills = only<KillTask>(fx);
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].task_id, four.task_id);
  EXPECT_EQ(names(h.core.members()),
            (std::vector<std::string>{"etcd-1", "etcd-2", "etcd-3", "etcd-5"}));
  // Its end is no failure: nothing replaces it, and nothing grows.
  h.report(four, TaskState::kKilled);
  EXPECT_EQ(h.core.stats().failed_servers, 0u);

  // The next fresh check takes the next one: etcd-3 (etcd-5 still leads).
  h.tick_until_check();
  removes = only<RemoveEtcdMember>(answer_with_leader(h, "etcd-5"));
  ASSERT_EQ(removes.size(), 1u);
  EXPECT_EQ(removes[0].etcd_id, Harness::etcd_id_of("etcd-3"));
  h.step(MemberRemoved{Harness::etcd_id_of("etcd-3"), true, ""});
  EXPECT_EQ(names(h.core.members()), (std::vector<std::string>{"etcd-1", "etcd-2", "etcd-5"}));

  // At size: nothing more is removed, and offers are declined.
  h.tick_until_check();
  fx = answer_with_leader(h, "etcd-5");
  EXPECT_EQ(count<RemoveEtcdMember>(fx), 0u);
  EXPECT_EQ(count<AddEtcdMember>(h.offers({offer("o9", 6)})), 0u);
  EXPECT_NE(h.core.plan_reason().find("complete with 3 of 3"), std::string::npos)
      << h.core.plan_reason();
}

TEST(CoreResize, AnUnreachableMemberIsRemovedFirst) {
  Harness h(config_of_size(5));
  h.bring_up(5);
  fresh_check(h, "etcd-1", {"etcd-2"});
  auto removes = only<RemoveEtcdMember>(h.step(OperatorResize{3}));
  ASSERT_EQ(removes.size(), 1u);
  EXPECT_EQ(removes[0].etcd_id, Harness::etcd_id_of("etcd-2"));
}

TEST(CoreResize, AFailedRemovalKillsNothingAndIsTriedAgainAfterAFreshCheck) {
  Harness h;
  h.bring_up(3);
  fresh_check(h, "etcd-1");
  auto removes = only<RemoveEtcdMember>(h.step(OperatorResize{1}));
  ASSERT_EQ(removes.size(), 1u);
  EXPECT_EQ(removes[0].etcd_id, Harness::etcd_id_of("etcd-3"));
  auto fx = h.step(MemberRemoved{removes[0].etcd_id, false, "etcdserver: unhealthy cluster"});
  EXPECT_EQ(count<KillTask>(fx), 0u);
  EXPECT_EQ(h.core.members().size(), 3u);
  h.tick_until_check();
  removes = only<RemoveEtcdMember>(answer_with_leader(h, "etcd-1"));
  ASSERT_EQ(removes.size(), 1u);
  EXPECT_EQ(removes[0].etcd_id, Harness::etcd_id_of("etcd-3"));
}

TEST(CoreResize, NothingIsRemovedFromAnUnhealthyCluster) {
  Harness h;
  h.bring_up(3);
  h.tick_until_check();
  h.answer_check(false);
  auto fx = h.step(OperatorResize{1});
  EXPECT_EQ(count<RemoveEtcdMember>(fx), 0u);
  h.tick_until_check();
  fx = h.answer_check(false);
  EXPECT_EQ(count<RemoveEtcdMember>(fx), 0u);
  EXPECT_NE(h.core.plan_reason().find("not shrinking"), std::string::npos) << h.core.plan_reason();
}

TEST(CoreResize, TheLeaderIsNeverChosenAndAReachableMajorityMustStay) {
  Harness h;
  h.bring_up(3);
  const auto& members = h.core.members();
  HealthResult fresh;
  fresh.healthy = true;
  for (const auto& m : members) {
    fresh.membership.push_back(listed(m, Harness::etcd_id_of(m.name)));
  }
  // etcd-3 leads; etcd-2 is not reachable but etcd lists it without an id we
  // could remove it by (an add not yet started): etcd-1 would be the only
  // candidate, and without it one of the two left is reachable.
  fresh.membership[1].id = 0;
  fresh.members = {MemberHealth{"etcd-1", true, Harness::etcd_id_of("etcd-3"), 10, 2, ""},
                   MemberHealth{"etcd-2", false, 0, 0, 0, "connection refused"},
                   MemberHealth{"etcd-3", true, Harness::etcd_id_of("etcd-3"), 10, 2, ""}};
  auto none = shrink_choice(members, fresh);
  EXPECT_FALSE(none.choice);
  EXPECT_NE(none.why_none.find("no majority"), std::string::npos) << none.why_none;

  // All reachable: the newest that does not lead.
  fresh.membership[1].id = Harness::etcd_id_of("etcd-2");
  fresh.members[1] = MemberHealth{"etcd-2", true, Harness::etcd_id_of("etcd-3"), 10, 2, ""};
  auto some = shrink_choice(members, fresh);
  ASSERT_TRUE(some.choice);
  EXPECT_EQ(some.choice->name, "etcd-2");
}

TEST(CoreResize, WithPersistenceTheSizeTakesEffectOnceWrittenAndAFailedWriteIsRetried) {
  Harness h(persist_config());
  h.step(Recovered{});
  h.step(Subscribed{"fw-1"});
  h.step(FrameworkIdPersisted{"fw-1", true, ""});
  h.bring_up(3);
  ASSERT_EQ(h.core.members().size(), 3u);
  h.offers({offer("o4", 4), offer("o5", 5)});
  auto fx = h.step(OperatorResize{5});
  auto writes = only<PersistClusterSize>(fx);
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0].size, 5u);
  EXPECT_EQ(h.core.cluster_size(), 3u);  // not before it is recorded
  EXPECT_EQ(h.core.resize_pending(), std::optional<std::size_t>(5));

  fx = h.step(ClusterSizePersisted{5, false, "ZooKeeper: connection loss"});
  EXPECT_EQ(count<PersistClusterSize>(fx), 0u);
  EXPECT_EQ(h.core.cluster_size(), 3u);
  EXPECT_EQ(count<PersistClusterSize>(h.advance(1000ms)), 0u);  // not before the retry interval
  writes = only<PersistClusterSize>(h.advance(1500ms));
  ASSERT_EQ(writes.size(), 1u);
  // A newer wish while that write is in flight: written after it.
  EXPECT_EQ(count<PersistClusterSize>(h.step(OperatorResize{1})), 0u);
  fx = h.step(ClusterSizePersisted{5, true, ""});
  EXPECT_EQ(h.core.cluster_size(), 3u);
  writes = only<PersistClusterSize>(fx);
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0].size, 1u);
  h.step(ClusterSizePersisted{1, true, ""});
  EXPECT_EQ(h.core.cluster_size(), 1u);
  EXPECT_FALSE(h.core.resize_pending());
}

TEST(CoreResize, APersistedSizeWinsOverTheFlagAfterARestart) {
  Harness h(persist_config());
  Recovered recovered;
  recovered.cluster_size = 5;
  h.step(recovered);
  EXPECT_EQ(h.core.cluster_size(), 5u);
  // Garbage is ignored (the shell reports a bad record and passes none).
  Harness g(persist_config());
  recovered.cluster_size = 4;
  g.step(recovered);
  EXPECT_EQ(g.core.cluster_size(), 3u);
}

TEST(CoreResize, WithPersistenceASizeIsRefusedWhileTheStoreCannotBeWritten) {
  Harness h(persist_config());
  h.step(Recovered{});
  h.step(Subscribed{"fw-1"});
  h.step(FrameworkIdPersisted{"fw-1", true, ""});
  h.bring_up(3);
  ASSERT_FALSE(h.core.why_not_resize(1));
  h.step(LeadershipChanged{true, ZkSession::kConnectionLost, false});
  auto why = h.core.why_not_resize(1);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("ZooKeeper"), std::string::npos) << *why;
}

}  // namespace
}  // namespace etcdmesos::core::testing
