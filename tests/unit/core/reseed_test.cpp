// Quorum loss with a fake clock: livelock detection and counting, automatic
// and operator reseeds, candidate order, the next candidate after a timeout
// or a failure, no old member stopped before the seed is healthy, growing
// back, and the total-loss lock with its unlock.
#include "core/reseed_plan.hpp"
#include "core_harness.hpp"

#include <gtest/gtest.h>

#include <map>

namespace etcdmesos::core::testing {
namespace {

Config config_of(std::size_t size, Millis reseed_timeout = 30000ms, bool auto_reseed = true) {
  Config c = test_config();
  c.cluster_size = size;
  c.reseed_timeout = reseed_timeout;
  c.auto_reseed = auto_reseed;
  c.seed_timeout = 20000ms;
  return c;
}

// A verdict without quorum: only `answering` (name -> raft index) answer,
// naming no leader; etcd still lists all of `cluster`.
HealthResult without_quorum(const std::vector<Member>& cluster,
                            const std::map<std::string, uint64_t>& answering) {
  HealthResult r;
  r.healthy = false;
  r.reason = "no quorum: " + std::to_string(answering.size()) + " of " +
             std::to_string(cluster.size()) + " members reachable";
  for (const auto& m : cluster) {
    if (auto it = answering.find(m.name); it != answering.end()) {
      r.members.push_back(MemberHealth{m.name, true, 0, it->second, 7, "etcdserver: no leader"});
    }
    r.membership.push_back(listed(m, Harness::etcd_id_of(m.name)));
  }
  return r;
}

std::vector<Effect> answer(Harness& h, HealthResult result) {
  return h.step(HealthChecked{h.last_check_id, std::move(result)});
}

// After a seed surely stopped, the next candidate is ordered once a check
// that starts then still finds the majority lost: returns its effects.
std::vector<Effect> next_after_livelocked_check(Harness& h, const std::vector<Member>& all,
                                                const std::map<std::string, uint64_t>& answering) {
  EXPECT_EQ(count<CheckHealth>(h.tick_until_check()), 1u);
  return answer(h, without_quorum(all, answering));
}

std::vector<std::string> task_ids(const std::vector<KillTask>& kills) {
  std::vector<std::string> ids;
  for (const auto& k : kills) {
    ids.push_back(k.task_id);
  }
  return ids;
}

// Five members; etcd-1..3 fail; etcd-4 (raft index 100) and etcd-5 (120)
// survive without quorum. Returns all five as they were.
std::vector<Member> livelock_five(Harness& h) {
  h.bring_up(5);
  std::vector<Member> all = h.core.members();
  for (const char* name : {"etcd-1", "etcd-2", "etcd-3"}) {
    h.report(*h.member(name), TaskState::kFailed);
  }
  EXPECT_EQ(count<CheckHealth>(h.tick_until_check()), 1u);
  answer(h, without_quorum(all, {{"etcd-4", 100}, {"etcd-5", 120}}));
  return all;
}

// Runs an automatic reseed up to its seed order; returns that order.
ReseedOrder reseed_to_seed_order(Harness& h, const std::vector<Member>& all) {
  std::vector<Effect> fx;
  for (int i = 0; i < 120 && count<QueryMemberStatus>(fx) == 0; ++i) {
    fx = h.advance(1000ms);
    if (count<CheckHealth>(fx) > 0) {
      answer(h, without_quorum(all, {{"etcd-4", 100}, {"etcd-5", 120}}));
    }
  }
  auto query = only<QueryMemberStatus>(fx);
  EXPECT_EQ(query.size(), 1u);
  auto orders = only<ReseedOrder>(h.statuses_and_fences(MemberStatuses{
      query.at(0).query_id,
      {MemberHealth{"etcd-4", true, 0, 100, 7, ""}, MemberHealth{"etcd-5", true, 0, 120, 7, ""}}}));
  EXPECT_EQ(orders.size(), 3u);  // two fences, then the seed
  return orders.back();
}

TEST(CoreLivelock, MajorityLostIsALivelockCountedOncePerEpisode) {
  Harness h(config_of(3, 600000ms));
  h.bring_up(3);
  const auto all = h.core.members();
  h.report(*h.member("etcd-2"), TaskState::kFailed);
  h.report(*h.member("etcd-3"), TaskState::kFailed);
  h.tick_until_check();
  auto fx = answer(h, without_quorum(all, {{"etcd-1", 50}}));
  EXPECT_TRUE(h.core.livelocked());
  EXPECT_EQ(h.core.stats().cluster_livelocks, 1u);
  // etcd cannot remove a member without quorum: nothing is tried.
  EXPECT_EQ(count<RemoveEtcdMember>(fx), 0u);
  EXPECT_NE(h.core.plan_reason().find("livelock"), std::string::npos) << h.core.plan_reason();

  for (int i = 0; i < 3; ++i) {
    h.tick_until_check();
    EXPECT_EQ(count<RemoveEtcdMember>(answer(h, without_quorum(all, {{"etcd-1", 50}}))), 0u);
  }
  EXPECT_EQ(h.core.stats().cluster_livelocks, 1u);
  EXPECT_EQ(count<AddEtcdMember>(h.offers({offer("o9", 4)})), 0u);

  // etcd-2 comes back (e.g. a network partition ends): quorum again.
  h.tick_until_check();
  auto back = without_quorum(all, {{"etcd-1", 50}, {"etcd-2", 50}});
  back.reason = "raft term changed on etcd-1: 7 -> 8 (an election during the check)";
  answer(h, back);
  EXPECT_FALSE(h.core.livelocked());

  // A second loss is a second episode.
  h.tick_until_check();
  answer(h, without_quorum(all, {{"etcd-1", 50}}));
  EXPECT_TRUE(h.core.livelocked());
  EXPECT_EQ(h.core.stats().cluster_livelocks, 2u);
}

TEST(CoreLivelock, AVoterAddedToAOneMemberClusterIsNoLivelock) {
  Harness h(config_of(3));
  h.bring_up(1);
  h.tick_until_check();
  h.answer_check(true);
  auto adds = only<AddEtcdMember>(h.offers({offer("o2", 2)}));
  ASSERT_EQ(adds.size(), 1u);
  ASSERT_EQ(count<LaunchMember>(h.step(MemberAdded{"etcd-2", true, 22, ""})), 1u);
  // Until etcd-2 starts, etcd-1 alone is not a majority of two.
  h.tick_until_check();
  HealthResult r;
  r.reason = "no quorum: 1 of 2 members reachable";
  r.members = {MemberHealth{"etcd-1", true, 0, 5, 2, "etcdserver: no leader"}};
  answer(h, r);
  EXPECT_FALSE(h.core.livelocked());
  EXPECT_EQ(h.core.stats().cluster_livelocks, 0u);
}

TEST(CoreLivelock, AVerdictOfACheckOlderThanTheLastChangeIsNoLivelock) {
  Harness h(config_of(3));
  h.bring_up(3);
  const auto all = h.core.members();
  h.tick_until_check();  // in flight while a member fails
  h.report(*h.member("etcd-3"), TaskState::kFailed);
  answer(h, without_quorum(all, {{"etcd-1", 9}}));
  EXPECT_FALSE(h.core.livelocked());
  h.tick_until_check();
  answer(h, without_quorum(all, {{"etcd-1", 9}}));
  EXPECT_TRUE(h.core.livelocked());
}

TEST(CoreReseedPlan, CandidatesAreRankedByRaftIndexThenLaunchOrder) {
  std::vector<Member> members(4);
  for (std::size_t i = 0; i < members.size(); ++i) {
    members[i].name = "etcd-" + std::to_string(i + 1);
    members[i].task_id = "t" + std::to_string(i + 1);
    members[i].state = TaskState::kRunning;
  }
  members[3].state = TaskState::kStaging;  // never ran: no data worth seeding
  const std::vector<MemberHealth> statuses{
      {"etcd-1", true, 0, 40, 3, ""},    {"etcd-2", false, 0, 0, 0, "timed out"},
      {"etcd-3", true, 0, 41, 3, ""},    {"etcd-4", true, 0, 99, 3, ""},
      {"stranger", true, 0, 500, 3, ""},
  };
  EXPECT_EQ(rank_seed_candidates(statuses, members), (std::vector<std::string>{"t3", "t1"}));
  std::vector<MemberHealth> tie{{"etcd-3", true, 0, 7, 3, ""}, {"etcd-1", true, 0, 7, 3, ""}};
  EXPECT_EQ(rank_seed_candidates(tie, members), (std::vector<std::string>{"t1", "t3"}));
}

TEST(CoreReseedPlan, OnlyLostQuorumOrNoLeaderIsALivelock) {
  HealthResult r;
  r.reason = "no quorum: 1 of 3 members reachable";
  EXPECT_TRUE(lacks_quorum(r));
  r.reason = "no leader: etcd-1 reports none (etcdserver: no leader)";
  EXPECT_TRUE(lacks_quorum(r));
  for (const char* other : {"raft term changed on etcd-1: 2 -> 3", "probe write failed: timeout",
                            "no progress: the commit index did not advance over the check"}) {
    r.reason = other;
    EXPECT_FALSE(lacks_quorum(r)) << other;
  }
  r.healthy = true;
  r.reason = "no quorum";
  EXPECT_FALSE(lacks_quorum(r));
}

TEST(CoreReseed, AutomaticReseedStartsAfterTheTimeoutAndSeedsTheHighestRaftIndex) {
  Harness h(config_of(5, 30000ms));
  const auto all = livelock_five(h);
  ASSERT_TRUE(h.core.livelocked());
  const Millis since = *h.core.livelock_since();
  EXPECT_EQ(h.core.auto_reseed_at(), since + 30000ms);

  std::vector<Effect> fx;
  while (h.now + 1000ms < since + 30000ms) {
    fx = h.advance(1000ms);
    EXPECT_EQ(count<QueryMemberStatus>(fx), 0u);
    if (count<CheckHealth>(fx) > 0) {
      answer(h, without_quorum(all, {{"etcd-4", 100}, {"etcd-5", 120}}));
    }
  }
  fx = h.advance(1000ms);
  auto query = only<QueryMemberStatus>(fx);
  ASSERT_EQ(query.size(), 1u);
  EXPECT_EQ(query[0].members.size(), 2u);
  EXPECT_TRUE(h.core.reseeding());
  EXPECT_EQ(h.core.stats().cluster_reseeds, 1u);

  fx = h.statuses_and_fences(MemberStatuses{
      query[0].query_id,
      {MemberHealth{"etcd-4", true, 0, 100, 7, ""}, MemberHealth{"etcd-5", true, 0, 120, 7, ""}}});
  const auto orders = only<ReseedOrder>(fx);
  ASSERT_EQ(orders.size(), 3u);
  // Every survivor is fenced first; then the best fenced one seeds.
  EXPECT_EQ(orders[0].action, ReseedAction::kFence);
  EXPECT_EQ(orders[1].action, ReseedAction::kFence);
  EXPECT_EQ(orders[0].lease, 2 * h.core.config().seed_timeout);
  EXPECT_EQ(orders[2].action, ReseedAction::kSeed);
  EXPECT_EQ(orders[2].task_id, h.member("etcd-5")->task_id);
  EXPECT_EQ(count<KillTask>(fx), 0u);
}

TEST(CoreReseed, NoOldMemberIsStoppedBeforeTheSeedIsHealthyAloneThenTheClusterGrowsBack) {
  Harness h(config_of(5));
  const auto all = livelock_five(h);
  const ReseedOrder seed = reseed_to_seed_order(h, all);
  const std::string old_task = h.member("etcd-4")->task_id;
  const std::size_t from = h.history.size();

  // Until its executor reports, the seed is not health-checked at all.
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(count<CheckHealth>(h.advance(1000ms)), 0u);
  }
  h.step(ReseedReport{seed.task_id, seed.reseed_id, ReseedAction::kSeed, true, "serves"});
  auto checks = only<CheckHealth>(h.tick_until_check());
  ASSERT_EQ(checks.size(), 1u);
  ASSERT_EQ(checks[0].members.size(), 1u);
  EXPECT_EQ(checks[0].members[0].name, "etcd-5");
  // An unhealthy seed stops nobody.
  answer(h, without_quorum({*h.member("etcd-5")}, {}));
  EXPECT_EQ(count<KillTask>(std::vector<Effect>(h.history.begin() + from, h.history.end())), 0u);

  h.tick_until_check();
  auto fx = h.answer_check(true);  // lists etcd-4 as well: the old member
  // The healthy verdict came from a check of the seed alone.
  EXPECT_EQ(task_ids(only<KillTask>(fx)), (std::vector<std::string>{old_task}));
  EXPECT_FALSE(h.core.reseeding());
  EXPECT_FALSE(h.core.livelocked());
  ASSERT_EQ(h.core.members().size(), 1u);
  EXPECT_EQ(h.core.members()[0].name, "etcd-5");
  EXPECT_NE(h.core.last_reseed_outcome().find("etcd-5 seeded a new cluster"), std::string::npos);
  EXPECT_EQ(h.core.stats().failed_servers, 3u);  // the retired member did not fail
  // The outcome is counted by its class (GET /metrics).
  EXPECT_EQ(h.core.counters().reseeds, (std::map<std::string, uint64_t>{{"done", 1}}));

  // Growing back through the normal path: fresh healthy check, add, launch.
  h.tick_until_check();
  h.answer_check(true);
  auto adds = only<AddEtcdMember>(h.offers({offer("o6", 6)}));
  ASSERT_EQ(adds.size(), 1u);
  auto launch = only<LaunchMember>(h.step(MemberAdded{adds[0].name, true, 66, ""}));
  ASSERT_EQ(launch.size(), 1u);
  EXPECT_EQ(launch[0].spec.cluster_state, "existing");
  EXPECT_EQ(launch[0].spec.initial_cluster,
            "etcd-5=http://127.0.0.6:31000," + adds[0].name + "=http://127.0.0.7:31000");
}

// Issue 12, item 4: growth after a reseed waits for etcd's 5-second rule
// only where etcd applies it. The seed is a one-member cluster: its second
// member is added at once; the third waits until the second has been
// connected for 5 s (join_settle after its TASK_RUNNING).
TEST(CoreReseed, GrowthAfterAReseedWaitsForEtcdsFiveSecondRuleOnlyFromTheSecondMember) {
  Config c = config_of(5);
  c.join_settle = 5500ms;
  Harness h(c);
  const auto all = livelock_five(h);
  const ReseedOrder seed = reseed_to_seed_order(h, all);
  h.step(ReseedReport{seed.task_id, seed.reseed_id, ReseedAction::kSeed, true, "serves"});
  h.tick_until_check();
  h.answer_check(true);  // the seed alone is healthy: the old member is retired
  ASSERT_EQ(h.core.members().size(), 1u);
  h.tick_until_check();
  h.answer_check(true);
  auto adds = only<AddEtcdMember>(h.offers({offer("o6", 6)}));
  ASSERT_EQ(adds.size(), 1u);  // no wait for a one-member cluster
  auto second = only<LaunchMember>(h.step(MemberAdded{adds[0].name, true, 66, ""}));
  ASSERT_EQ(second.size(), 1u);
  h.report(second[0].spec.member, TaskState::kRunning);
  const Millis joined = h.now;
  h.tick_until_check();
  h.answer_check(true);
  ASSERT_LT(h.now, joined + 5500ms);
  EXPECT_EQ(count<AddEtcdMember>(h.offers({offer("o7", 7)})), 0u);
  EXPECT_NE(h.core.plan_reason().find("5-second"), std::string::npos) << h.core.plan_reason();
  while (h.now < joined + 5500ms) {
    h.advance(1000ms);
  }
  EXPECT_EQ(count<AddEtcdMember>(h.offers({offer("o8", 7)})), 1u);
}

TEST(CoreReseed, ASeedThatIsNotHealthyInTimeIsKilledAndTheNextCandidateTried) {
  Harness h(config_of(5));
  const auto all = livelock_five(h);
  const ReseedOrder first = reseed_to_seed_order(h, all);
  const std::string second_task = h.member("etcd-4")->task_id;
  h.step(ReseedReport{first.task_id, first.reseed_id, ReseedAction::kSeed, true, ""});

  std::vector<Effect> fx;
  for (int i = 0; i < 30 && count<KillTask>(fx) == 0; ++i) {
    fx = h.advance(1000ms);
    if (count<CheckHealth>(fx) > 0) {
      answer(h, without_quorum({*h.member("etcd-5")}, {}));
    }
  }
  EXPECT_EQ(task_ids(only<KillTask>(fx)), (std::vector<std::string>{first.task_id}));
  // No next seed until Mesos confirms the first one stopped (the fence of
  // the other is renewed meanwhile).
  EXPECT_EQ(seed_orders(fx).size(), 0u);
  fx = h.report(*h.member("etcd-5"), TaskState::kKilled);
  EXPECT_EQ(seed_orders(fx).size(), 0u);
  auto orders = seed_orders(next_after_livelocked_check(h, all, {}));
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(orders[0].action, ReseedAction::kSeed);
  EXPECT_EQ(orders[0].task_id, second_task);
  EXPECT_EQ(h.member("etcd-5"), nullptr);
  EXPECT_TRUE(h.core.reseeding());

  h.step(ReseedReport{second_task, orders[0].reseed_id, ReseedAction::kSeed, true, ""});
  auto checks = only<CheckHealth>(h.tick_until_check());
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].members[0].name, "etcd-4");
  EXPECT_EQ(count<KillTask>(h.answer_check(true)), 0u);  // nobody else is left
  EXPECT_FALSE(h.core.reseeding());
  EXPECT_EQ(h.core.members().size(), 1u);
}

TEST(CoreReseed, AFailedSeedMovesOnOnceItsTaskEnded) {
  Harness h(config_of(5));
  const auto all = livelock_five(h);
  const ReseedOrder first = reseed_to_seed_order(h, all);
  auto fx =
      h.step(ReseedReport{first.task_id, first.reseed_id, ReseedAction::kSeed, false, "disk full"});
  EXPECT_EQ(task_ids(only<KillTask>(fx)), (std::vector<std::string>{first.task_id}));
  EXPECT_EQ(count<ReseedOrder>(fx), 0u);
  fx = h.report(*h.member("etcd-5"), TaskState::kKilled);
  EXPECT_EQ(count<ReseedOrder>(fx), 0u);
  auto orders = only<ReseedOrder>(next_after_livelocked_check(h, all, {{"etcd-4", 100}}));
  ASSERT_EQ(orders.size(), 1u);
  const std::string second = orders[0].task_id;
  EXPECT_EQ(second, h.member("etcd-4")->task_id);

  // The last candidate's task ends: every member is gone, the core locks.
  fx = h.report(*h.member("etcd-4"), TaskState::kLost);
  EXPECT_FALSE(h.core.reseeding());
  EXPECT_TRUE(h.core.locked());
  EXPECT_NE(h.core.last_reseed_outcome().find("failed"), std::string::npos);
  EXPECT_EQ(h.core.counters().reseeds.at("failed"), 1u);
}

// A seed lost with its agent (TASK_LOST) may still serve as a one-member
// cluster behind a partition: no other member is seeded in this reseed
// (found by the simulator, seed 20437: two clusters with quorum at once).
TEST(CoreReseed, ASeedLostWithItsAgentEndsTheReseedInsteadOfSeedingAnother) {
  Harness h(config_of(5));
  const auto all = livelock_five(h);
  const ReseedOrder first = reseed_to_seed_order(h, all);
  h.step(ReseedReport{first.task_id, first.reseed_id, ReseedAction::kSeed, true, ""});
  auto fx = h.report(*h.member("etcd-5"), TaskState::kLost);
  EXPECT_EQ(count<ReseedOrder>(fx), 0u);
  EXPECT_FALSE(h.core.reseeding());
  EXPECT_NE(h.core.last_reseed_outcome().find("may still serve"), std::string::npos)
      << h.core.last_reseed_outcome();
  // Nor on later passes.
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(count<ReseedOrder>(h.advance(1000ms)), 0u);
  }
  // An operator cannot start another reseed while that seed may serve ...
  const auto why = h.core.why_not_reseed();
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("may still serve"), std::string::npos) << *why;
  EXPECT_EQ(count<QueryMemberStatus>(h.step(OperatorReseed{})), 0u);
  // ... until Mesos reports its task ended for sure (its agent came back and
  // the task was killed on sight).
  h.step(StatusUpdate{first.task_id, first.agent_id, TaskState::kKilled, "u-stray", "", "", {}});
  EXPECT_FALSE(h.core.why_not_reseed()) << *h.core.why_not_reseed();
  EXPECT_EQ(count<QueryMemberStatus>(h.step(OperatorReseed{})), 1u);
}

TEST(CoreReseed, StaleOrRepeatedReportsChangeNothing) {
  Harness h(config_of(5));
  const auto all = livelock_five(h);
  const ReseedOrder seed = reseed_to_seed_order(h, all);
  EXPECT_TRUE(h.step(ReseedReport{seed.task_id, seed.reseed_id + 1, ReseedAction::kSeed, false, ""})
                  .empty());
  EXPECT_TRUE(h.step(ReseedReport{h.member("etcd-4")->task_id, seed.reseed_id, ReseedAction::kFence,
                                  true, ""})
                  .empty());
  EXPECT_TRUE(h.core.reseeding());
  EXPECT_NE(h.core.reseed_status().find("restarting"), std::string::npos);
}

TEST(CoreReseed, NoAnswerToTheStatusQueryPostponesTheReseedAndAsksAgainSoon) {
  Harness h(config_of(5, 30000ms));
  const auto all = livelock_five(h);
  std::vector<Effect> fx;
  for (int i = 0; i < 60 && count<QueryMemberStatus>(fx) == 0; ++i) {
    fx = h.advance(1000ms);
  }
  auto query = only<QueryMemberStatus>(fx);
  ASSERT_EQ(query.size(), 1u);
  fx = h.statuses_and_fences(MemberStatuses{query[0].query_id,
                                            {MemberHealth{"etcd-4", false, 0, 0, 0, "timeout"},
                                             MemberHealth{"etcd-5", false, 0, 0, 0, "timeout"}}});
  EXPECT_EQ(count<ReseedOrder>(fx), 0u);
  EXPECT_FALSE(h.core.reseeding());
  EXPECT_TRUE(h.core.livelocked());
  // Both run as far as Mesos knows: either may hold the highest index, so
  // they are asked again after a short wait (safe_reseed_test.cpp has the
  // backoff), not after a whole reseed timeout.
  EXPECT_EQ(h.core.auto_reseed_at(), h.now + 2000ms);
  const Millis retry = h.now + 2000ms;
  fx = {};
  while (count<QueryMemberStatus>(fx) == 0 && h.now < retry + 2000ms) {
    fx = h.advance(1000ms);
    if (count<CheckHealth>(fx) > 0) {
      answer(h, without_quorum(all, {{"etcd-4", 100}}));
    }
  }
  EXPECT_GE(h.now, retry);
  EXPECT_EQ(count<QueryMemberStatus>(fx), 1u);
  EXPECT_EQ(h.core.stats().cluster_reseeds, 2u);
  EXPECT_EQ(h.core.counters().reseeds, (std::map<std::string, uint64_t>{{"postponed", 1}}));
}

TEST(CoreReseed, WithoutAutoReseedOnlyTheOperatorStartsIt) {
  Harness h(config_of(5, 5000ms, /*auto_reseed=*/false));
  const auto all = livelock_five(h);
  EXPECT_FALSE(h.core.auto_reseed_at());
  for (int i = 0; i < 60; ++i) {
    auto fx = h.advance(1000ms);
    ASSERT_EQ(count<QueryMemberStatus>(fx), 0u);
    if (count<CheckHealth>(fx) > 0) {
      answer(h, without_quorum(all, {{"etcd-4", 100}, {"etcd-5", 120}}));
    }
  }
  EXPECT_TRUE(h.core.livelocked());
  EXPECT_EQ(h.core.stats().cluster_livelocks, 1u);
  EXPECT_EQ(h.core.why_not_reseed(), std::nullopt);
  auto fx = h.step(OperatorReseed{});
  EXPECT_EQ(count<QueryMemberStatus>(fx), 1u);
  ASSERT_TRUE(h.core.why_not_reseed());
  EXPECT_NE(h.core.why_not_reseed()->find("already"), std::string::npos);
  EXPECT_TRUE(h.step(OperatorReseed{}).empty());
}

TEST(CoreReseed, TheOperatorCannotReseedAHealthyCluster) {
  Harness h(config_of(3));
  h.bring_up(3);
  ASSERT_TRUE(h.core.why_not_reseed());
  EXPECT_NE(h.core.why_not_reseed()->find("not livelocked"), std::string::npos);
  EXPECT_TRUE(h.step(OperatorReseed{}).empty());
  EXPECT_FALSE(h.core.reseeding());
  EXPECT_EQ(h.core.stats().cluster_reseeds, 0u);
}

TEST(CoreReseed, NothingGrowsOrIsRemovedWhileReseeding) {
  Harness h(config_of(5));
  const auto all = livelock_five(h);
  reseed_to_seed_order(h, all);
  auto fx = h.offers({offer("o7", 7)});
  EXPECT_EQ(count<AddEtcdMember>(fx), 0u);
  EXPECT_EQ(count<DeclineOffer>(fx), 1u);
  EXPECT_EQ(count<RemoveEtcdMember>(fx), 0u);
  EXPECT_NE(h.core.plan_reason().find("reseed"), std::string::npos);
}

TEST(CoreTotalLoss, EveryMemberLostLocksAndOnlyAnUnlockBootstrapsAgain) {
  Harness h(config_of(3));
  h.bring_up(3);
  for (const char* name : {"etcd-1", "etcd-2", "etcd-3"}) {
    h.report(*h.member(name), TaskState::kFailed);
  }
  EXPECT_TRUE(h.core.locked());
  EXPECT_NE(h.core.lock_reason().find("total loss"), std::string::npos);
  EXPECT_FALSE(h.core.stats().healthy);
  EXPECT_TRUE(h.core.why_not_reseed());
  for (int i = 0; i < 5; ++i) {
    auto fx = h.offers({offer("o" + std::to_string(10 + i), 5)});
    EXPECT_EQ(count<LaunchMember>(fx) + count<AddEtcdMember>(fx), 0u);
    h.advance(10000ms);
  }
  EXPECT_EQ(h.core.stats().launched_servers, 3u);

  EXPECT_EQ(h.core.why_not_unlock(), std::nullopt);
  h.step(OperatorUnlock{});
  EXPECT_FALSE(h.core.locked());
  EXPECT_TRUE(h.core.why_not_unlock());
  auto launch = only<LaunchMember>(h.offers({offer("o20", 5)}));
  ASSERT_EQ(launch.size(), 1u);
  EXPECT_EQ(launch[0].spec.cluster_state, "new");
  EXPECT_EQ(launch[0].spec.initial_cluster, "etcd-4=http://127.0.0.6:31000");
}

TEST(CoreTotalLoss, UnlockForgetsTheLostClusterAndBootstrapsAnew) {
  Harness h(config_of(3));
  h.bring_up(2);
  h.tick_until_check();
  h.answer_check(true);
  h.offers({offer("o3", 3)});
  auto third = only<LaunchMember>(h.step(MemberAdded{"etcd-3", true, 33, ""}));
  ASSERT_EQ(third.size(), 1u);
  h.report(*h.member("etcd-1"), TaskState::kFailed);
  h.report(*h.member("etcd-2"), TaskState::kFailed);
  // etcd-3 joined: it may hold the data (safe_reseed_test.cpp), so only its
  // loss makes the total loss.
  EXPECT_FALSE(h.core.locked());
  h.report(third[0].spec.member, TaskState::kFailed);
  EXPECT_TRUE(h.core.locked());
  auto fx = h.step(OperatorUnlock{});
  EXPECT_EQ(count<KillTask>(fx), 0u);
  EXPECT_TRUE(h.core.members().empty());
  EXPECT_FALSE(h.core.locked());
  auto launches = only<LaunchMember>(h.offers({offer("o4", 4)}));
  ASSERT_EQ(launches.size(), 1u);
  EXPECT_EQ(launches[0].spec.cluster_state, "new");
}

// The add was sent to the lost cluster's addresses, which the new cluster's
// first member may take: the unlock gives its offer back and waits for its
// answer before bootstrapping (simulator, persist seed 3275472).
TEST(CoreTotalLoss, UnlockWaitsForAnAddInFlightBeforeBootstrapping) {
  Harness h(config_of(3));
  h.bring_up(2);
  const auto adds = only<AddEtcdMember>(h.offers({offer("o3", 3)}));
  ASSERT_EQ(adds.size(), 1u);
  h.report(*h.member("etcd-1"), TaskState::kFailed);
  h.report(*h.member("etcd-2"), TaskState::kFailed);
  ASSERT_TRUE(h.core.locked());
  auto fx = h.step(OperatorUnlock{});
  ASSERT_EQ(only<DeclineOffer>(fx).size(), 1u);
  EXPECT_EQ(only<DeclineOffer>(fx)[0].offer_id, "o3");
  EXPECT_TRUE(h.core.change_in_flight());
  EXPECT_EQ(count<LaunchMember>(h.offers({offer("o4", 4)})), 0u);
  fx = h.step(MemberAdded{adds[0].name, false, 0, "etcdserver: request timed out"});
  EXPECT_EQ(count<DeclineOffer>(fx), 0u);  // given back already
  const auto launches = only<LaunchMember>(h.offers({offer("o5", 4)}));
  ASSERT_EQ(launches.size(), 1u);
  EXPECT_EQ(launches[0].spec.cluster_state, "new");
}

TEST(CoreDescribe, ReseedEventsAndEffectsHaveOneLineEach) {
  EXPECT_EQ(describe(Effect{ReseedOrder{ReseedAction::kSeed, 3, "t1", "a1"}}),
            "reseed 3: order seed to t1 on agent a1");
  EXPECT_EQ(describe(Event{ReseedReport{"t1", 3, ReseedAction::kFence, true, "stopped", false, 9}}),
            "reseed 3 fence report from t1: ok (stopped), stopped at raft index 9");
  EXPECT_EQ(describe(Effect{ReseedOrder{ReseedAction::kFence, 3, "t1", "a1", Millis{60000}}}),
            "reseed 3: order fence to t1 on agent a1 (lease 60s)");
  EXPECT_EQ(describe(Event{MemberStatuses{4,
                                          {MemberHealth{"etcd-1", true, 0, 12, 2, ""},
                                           MemberHealth{"etcd-2", false, 0, 0, 0, "x"}}}}),
            "member statuses 4: etcd-1 raft_index=12, etcd-2 unreachable");
  EXPECT_EQ(describe(Event{OperatorReseed{}}), "operator requests a reseed");
}

}  // namespace
}  // namespace etcdmesos::core::testing
