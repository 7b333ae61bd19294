// A reseed that never destroys a serving cluster (issue 9), with a fake
// clock: a scheduler cut off from members that still serve is "partitioned",
// not livelocked; a running member that does not answer the status query
// postpones the seed choice; a failed seed whose data is untouched is kept;
// and a member that joined the cluster counts as holding its data.
#include "core_harness.hpp"

#include <gtest/gtest.h>

#include <map>

namespace etcdmesos::core::testing {
namespace {

Config config_of(std::size_t size) {
  Config c = test_config();
  c.cluster_size = size;
  c.reseed_timeout = 30000ms;
  c.seed_timeout = 20000ms;
  return c;
}

// A verdict in which only `answering` (name -> raft index) answer; with
// `leader` they name one and `commits` says the cluster was seen committing.
HealthResult seen(const std::vector<Member>& cluster,
                  const std::map<std::string, uint64_t>& answering, bool leader, bool commits) {
  HealthResult r;
  r.reason = "no quorum: " + std::to_string(answering.size()) + " of " +
             std::to_string(cluster.size()) + " members reachable";
  for (const auto& m : cluster) {
    if (auto it = answering.find(m.name); it != answering.end()) {
      r.members.push_back(MemberHealth{m.name, true, leader ? 77u : 0u, it->second, 7,
                                       leader ? "" : "etcdserver: no leader"});
    } else {
      r.members.push_back(MemberHealth{m.name, false, 0, 0, 0, "timed out"});
    }
    r.membership.push_back(listed(m, Harness::etcd_id_of(m.name)));
  }
  r.commits = commits;
  return r;
}

std::vector<Effect> answer(Harness& h, HealthResult result) {
  return h.step(HealthChecked{h.last_check_id, std::move(result)});
}

// Advances `for_how_long`, answering every check with `verdict`; returns
// every effect.
std::vector<Effect> hold(Harness& h, Millis for_how_long, const HealthResult& verdict) {
  std::vector<Effect> all;
  const Millis until = h.now + for_how_long;
  while (h.now < until) {
    auto fx = h.advance(1000ms);
    all.insert(all.end(), fx.begin(), fx.end());
    if (count<CheckHealth>(fx) > 0) {
      auto more = answer(h, verdict);
      all.insert(all.end(), more.begin(), more.end());
    }
  }
  return all;
}

// Nothing destructive among `fx`.
void expect_nothing_destroyed(const std::vector<Effect>& fx) {
  EXPECT_EQ(count<KillTask>(fx), 0u);
  EXPECT_EQ(count<RemoveEtcdMember>(fx), 0u);
  EXPECT_EQ(count<QueryMemberStatus>(fx), 0u);
  EXPECT_EQ(count<ReseedOrder>(fx), 0u);
  EXPECT_EQ(count<LaunchMember>(fx), 0u);
}

// Case 1: the scheduler reaches etcd-1 only; it names a leader and commits.
TEST(CorePartition, ACommittingMemberBehindAPartitionIsNoLivelockAndNothingIsReseeded) {
  Harness h(config_of(3));
  h.bring_up(3);
  const auto all = h.core.members();
  const auto verdict = seen(all, {{"etcd-1", 50}}, true, true);
  const auto fx = hold(h, 120000ms, verdict);
  expect_nothing_destroyed(fx);
  EXPECT_FALSE(h.core.livelocked());
  EXPECT_TRUE(h.core.partitioned());
  EXPECT_TRUE(h.core.partition_commits());
  EXPECT_FALSE(h.core.auto_reseed_at().has_value());
  EXPECT_NE(h.core.partition_reason().find("the cluster commits"), std::string::npos)
      << h.core.partition_reason();
  EXPECT_NE(h.core.plan_reason().find("partitioned"), std::string::npos) << h.core.plan_reason();
  // Not even an operator may reseed a cluster that commits.
  ASSERT_TRUE(h.core.why_not_reseed(true).has_value());
  EXPECT_NE(h.core.why_not_reseed(true)->find("destroy a serving cluster"), std::string::npos);
  expect_nothing_destroyed(h.step(OperatorReseed{true}));
  // The partition heals: healthy again, the state ends.
  h.tick_until_check();
  h.answer_check(true);
  EXPECT_FALSE(h.core.partitioned());
}

// Case 1, the other evidence: the reachable member cannot commit, but Mesos
// reports the two it cannot reach running.
TEST(CorePartition, SilentMembersMesosReportsRunningBlockTheLivelockUntilMesosReportsThemGone) {
  Harness h(config_of(3));
  h.bring_up(3);
  const auto all = h.core.members();
  const auto verdict = seen(all, {{"etcd-1", 50}}, false, false);
  expect_nothing_destroyed(hold(h, 60000ms, verdict));
  EXPECT_FALSE(h.core.livelocked());
  ASSERT_TRUE(h.core.partitioned());
  EXPECT_FALSE(h.core.partition_commits());
  EXPECT_EQ(h.core.silent_members(), (std::vector<std::string>{"etcd-2", "etcd-3"}));
  // An operator must name the risk.
  ASSERT_TRUE(h.core.why_not_reseed().has_value());
  EXPECT_NE(h.core.why_not_reseed()->find("skip-silent"), std::string::npos);
  EXPECT_FALSE(h.core.why_not_reseed(true).has_value());
  // Mesos reports both lost: the evidence agrees now, and the livelock runs
  // its timeout as before.
  h.report(*h.member("etcd-2"), TaskState::kLost);
  h.report(*h.member("etcd-3"), TaskState::kLost);
  h.tick_until_check();
  answer(h, seen(all, {{"etcd-1", 50}}, false, false));
  EXPECT_TRUE(h.core.livelocked());
  EXPECT_FALSE(h.core.partitioned());
  EXPECT_TRUE(h.core.auto_reseed_at().has_value());
}

TEST(CorePartition, AnOperatorReseedThatSkipsSilentMembersSeedsTheOneThatAnswersAndRetiresThem) {
  Harness h(config_of(3));
  h.bring_up(3);
  const auto all = h.core.members();
  const auto verdict = seen(all, {{"etcd-1", 50}}, false, false);
  hold(h, 10000ms, verdict);
  ASSERT_TRUE(h.core.partitioned());
  auto query = only<QueryMemberStatus>(h.step(OperatorReseed{true}));
  ASSERT_EQ(query.size(), 1u);
  auto fences = only<ReseedOrder>(h.step(MemberStatuses{
      query[0].query_id,
      {MemberHealth{"etcd-1", true, 0, 50, 7, ""}, MemberHealth{"etcd-2", false, 0, 0, 0, "x"},
       MemberHealth{"etcd-3", false, 0, 0, 0, "x"}}}));
  // The silent members are fenced too, in case the order reaches them.
  ASSERT_EQ(fences.size(), 3u);
  for (const auto& f : fences) {
    EXPECT_EQ(f.action, ReseedAction::kFence);
  }
  const std::string one = h.member("etcd-1")->task_id;
  EXPECT_TRUE(seed_orders(h.step(ReseedReport{one, fences[0].reseed_id, ReseedAction::kFence, true,
                                              "stopped", false, 50}))
                  .empty());
  // They never report: skipped once the wait is over; etcd-1 is the seed.
  std::vector<ReseedOrder> seeds;
  for (int i = 0; i < 20 && seeds.empty(); ++i) {
    seeds = seed_orders(h.advance(1000ms));
  }
  ASSERT_EQ(seeds.size(), 1u);
  const auto seed = seeds[0];
  EXPECT_EQ(seed.task_id, one);
  h.step(ReseedReport{seed.task_id, seed.reseed_id, ReseedAction::kSeed, true, "serves"});
  h.tick_until_check();
  HealthResult alone;
  alone.healthy = true;
  alone.members = {MemberHealth{"etcd-1", true, 1, 60, 8, ""}};
  const auto fx = answer(h, alone);
  EXPECT_EQ(count<KillTask>(fx), 2u);
  EXPECT_NE(h.core.last_reseed_outcome().find("skipped silent member(s) etcd-2, etcd-3"),
            std::string::npos)
      << h.core.last_reseed_outcome();
}

// A silent member whose fence does report was ranked after all: its data
// counts, it is not reported as skipped, and among equal raft indices the
// member that answered the status query is the seed (the silent one may be
// frozen; found on the dev cluster, where the frozen member, launched first,
// won the tie).
std::vector<ReseedOrder> seeds_after_silent_fence(uint64_t silent_index, std::string* outcome) {
  Harness h(config_of(3));
  h.bring_up(3);
  const auto all = h.core.members();
  hold(h, 10000ms, seen(all, {{"etcd-2", 50}}, false, false));
  EXPECT_TRUE(h.core.partitioned());
  auto query = only<QueryMemberStatus>(h.step(OperatorReseed{true}));
  EXPECT_EQ(query.size(), 1u);
  if (query.empty()) {
    return {};
  }
  auto fences = only<ReseedOrder>(h.step(MemberStatuses{
      query[0].query_id,
      {MemberHealth{"etcd-1", false, 0, 0, 0, "x"}, MemberHealth{"etcd-2", true, 0, 50, 7, ""},
       MemberHealth{"etcd-3", false, 0, 0, 0, "x"}}}));
  EXPECT_EQ(fences.size(), 3u);
  if (fences.empty()) {
    return {};
  }
  const auto id = fences[0].reseed_id;
  EXPECT_TRUE(seed_orders(h.step(ReseedReport{h.member("etcd-2")->task_id, id, ReseedAction::kFence,
                                              true, "stopped", false, 50}))
                  .empty());
  EXPECT_TRUE(seed_orders(h.step(ReseedReport{h.member("etcd-1")->task_id, id, ReseedAction::kFence,
                                              true, "stopped", false, silent_index}))
                  .empty());  // etcd-3 has not reported yet
  std::vector<ReseedOrder> seeds;
  for (int i = 0; i < 80 && seeds.empty(); ++i) {
    seeds = seed_orders(h.advance(1000ms));
  }
  if (seeds.size() == 1) {
    const std::string seed_name =
        seeds[0].task_id == h.member("etcd-1")->task_id ? "etcd-1" : "etcd-2";
    h.step(ReseedReport{seeds[0].task_id, seeds[0].reseed_id, ReseedAction::kSeed, true, "serves"});
    h.tick_until_check();
    HealthResult alone;
    alone.healthy = true;
    alone.members = {MemberHealth{seed_name, true, 1, 60, 8, ""}};
    answer(h, alone);
    *outcome = h.core.last_reseed_outcome();
  }
  return seeds;
}

TEST(CorePartition, OnEqualDataTheMemberThatAnsweredIsTheSeedNotTheSilentOneThatFenced) {
  std::string outcome;
  const auto seeds = seeds_after_silent_fence(50, &outcome);
  ASSERT_EQ(seeds.size(), 1u);
  EXPECT_EQ(seeds[0].task_id.rfind("etcd-2-", 0), 0u) << seeds[0].task_id;
  EXPECT_NE(outcome.find("etcd-2 seeded a new cluster"), std::string::npos) << outcome;
  EXPECT_NE(outcome.find("skipped silent member(s) etcd-3 (operator request)"), std::string::npos)
      << outcome;
}

TEST(CorePartition, ASilentMemberWhoseFencedDataHoldsMoreIsTheSeed) {
  std::string outcome;
  const auto seeds = seeds_after_silent_fence(51, &outcome);
  ASSERT_EQ(seeds.size(), 1u);
  EXPECT_EQ(seeds[0].task_id.rfind("etcd-1-", 0), 0u) << seeds[0].task_id;
  EXPECT_EQ(outcome.find("skipped silent member(s) etcd-1"), std::string::npos) << outcome;
}

// Five members, three failed (reported by Mesos); etcd-4 and etcd-5 run
// without quorum and both answered the last check.
std::vector<Member> livelocked_five(Harness& h) {
  h.bring_up(5);
  const auto all = h.core.members();
  for (const char* name : {"etcd-1", "etcd-2", "etcd-3"}) {
    h.report(*h.member(name), TaskState::kFailed);
  }
  h.tick_until_check();
  answer(h, seen(all, {{"etcd-4", 100}, {"etcd-5", 120}}, false, false));
  EXPECT_TRUE(h.core.livelocked());
  return all;
}

QueryMemberStatus next_query(Harness& h, const std::vector<Member>& all) {
  std::vector<Effect> fx;
  for (int i = 0; i < 120 && count<QueryMemberStatus>(fx) == 0; ++i) {
    fx = h.advance(1000ms);
    if (count<CheckHealth>(fx) > 0) {
      answer(h, seen(all, {{"etcd-4", 100}, {"etcd-5", 120}}, false, false));
    }
  }
  auto queries = only<QueryMemberStatus>(fx);
  return queries.empty() ? QueryMemberStatus{} : queries.front();
}

// Ranks etcd-4 and etcd-5 at these raft indexes; returns the orders.
std::vector<ReseedOrder> ranked(Harness& h, const std::vector<Member>& all, uint64_t four,
                                uint64_t five) {
  const auto query = next_query(h, all);
  return only<ReseedOrder>(
      h.statuses_and_fences(MemberStatuses{query.query_id,
                                           {MemberHealth{"etcd-4", true, 0, four, 7, ""},
                                            MemberHealth{"etcd-5", true, 0, five, 7, ""}}}));
}

// The next status query, answered by etcd-4 (raft index 100) and etcd-5
// (120); returns what the answer brought (the fence orders), unanswered.
std::vector<Effect> answer_query(Harness& h, const std::vector<Member>& all) {
  const auto query = next_query(h, all);
  return h.step(MemberStatuses{
      query.query_id,
      {MemberHealth{"etcd-4", true, 0, 100, 7, ""}, MemberHealth{"etcd-5", true, 0, 120, 7, ""}}});
}

// A seed's failure before it changed anything.
ReseedReport untouched_failure(const ReseedOrder& order, std::string why) {
  ReseedReport r{order.task_id, order.reseed_id, ReseedAction::kSeed, false, std::move(why)};
  r.data_untouched = true;
  return r;
}

// After a candidate failed, the next is ordered only once a check started
// after the failure still finds the majority lost: returns what that
// check's answer brought.
std::vector<Effect> next_after_fresh_check(Harness& h, const std::vector<Member>& all,
                                           std::map<std::string, uint64_t> answering) {
  EXPECT_EQ(count<CheckHealth>(h.tick_until_check()), 1u);
  return answer(h, seen(all, answering, false, false));
}

// Case 3: a running member that does not answer may hold the highest index.
TEST(CoreSilentMember, ARunningMemberThatDoesNotAnswerPostponesTheSeedWithBackoff) {
  Harness h(config_of(5));
  const auto all = livelocked_five(h);
  auto query = next_query(h, all);
  ASSERT_NE(query.query_id, 0u);
  auto fx = h.statuses_and_fences(MemberStatuses{
      query.query_id,
      {MemberHealth{"etcd-4", true, 0, 100, 7, ""}, MemberHealth{"etcd-5", false, 0, 0, 0, "x"}}});
  EXPECT_EQ(count<ReseedOrder>(fx), 0u);
  EXPECT_EQ(count<KillTask>(fx), 0u);
  EXPECT_NE(h.core.last_reseed_outcome().find("postponed: etcd-5"), std::string::npos)
      << h.core.last_reseed_outcome();
  EXPECT_EQ(h.core.auto_reseed_at(), h.now + 2000ms);
  // Asked again: still silent, the wait doubles.
  query = next_query(h, all);
  ASSERT_NE(query.query_id, 0u);
  h.statuses_and_fences(
      MemberStatuses{query.query_id, {MemberHealth{"etcd-4", true, 0, 100, 7, ""}}});
  EXPECT_EQ(h.core.auto_reseed_at(), h.now + 4000ms);
  // It answers: it holds the higher index and becomes the seed.
  query = next_query(h, all);
  auto orders = only<ReseedOrder>(h.statuses_and_fences(MemberStatuses{
      query.query_id,
      {MemberHealth{"etcd-4", true, 0, 100, 7, ""}, MemberHealth{"etcd-5", true, 0, 120, 7, ""}}}));
  ASSERT_EQ(orders.size(), 3u);
  EXPECT_EQ(orders.back().action, ReseedAction::kSeed);
  EXPECT_EQ(orders.back().task_id, h.member("etcd-5")->task_id);
}

// Case 2: every candidate fails before touching its data (disk full). Both
// hold the same raft index, so either may seed.
TEST(CoreFailedSeed, ASeedThatFailedOnUntouchedDataIsKeptAndWhenAllFailReseedsHaltWithoutKills) {
  Harness h(config_of(5));
  const auto all = livelocked_five(h);
  auto orders = ranked(h, all, 120, 120);
  ASSERT_EQ(orders.size(), 3u);
  const auto first = orders.back();
  ASSERT_EQ(first.task_id, h.member("etcd-4")->task_id);
  const auto failed =
      untouched_failure(first, "not enough free space to copy the data directory aside");
  auto fx = h.step(failed);
  EXPECT_EQ(count<KillTask>(fx), 0u);
  EXPECT_EQ(count<ReseedOrder>(fx), 0u);
  fx = next_after_fresh_check(h, all, {{"etcd-4", 120}, {"etcd-5", 120}});
  auto next = only<ReseedOrder>(fx);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].task_id, h.member("etcd-5")->task_id);
  const auto failed_too = untouched_failure(next[0], "not enough free space");
  fx = h.step(failed_too);
  EXPECT_EQ(count<KillTask>(fx), 0u);
  fx = next_after_fresh_check(h, all, {{"etcd-4", 120}, {"etcd-5", 120}});
  EXPECT_EQ(count<KillTask>(fx), 0u);
  EXPECT_TRUE(seed_orders(fx).empty());
  // Both kept candidates are fenced still: their fences end now.
  EXPECT_EQ(releases(fx), 2u);
  EXPECT_TRUE(h.core.locked());
  EXPECT_TRUE(h.core.reseed_halted());
  EXPECT_FALSE(h.core.total_loss());
  EXPECT_NE(h.core.lock_reason().find("etcd-4: not enough free space"), std::string::npos)
      << h.core.lock_reason();
  EXPECT_NE(h.core.lock_reason().find("etcd-5: not enough free space"), std::string::npos);
  EXPECT_EQ(h.core.members().size(), 2u);
  // Nothing automatic any more; unlock would throw the data away: refused.
  EXPECT_FALSE(h.core.auto_reseed_at().has_value());
  fx = hold(h, 120000ms, seen(all, {{"etcd-4", 120}, {"etcd-5", 120}}, false, false));
  EXPECT_EQ(count<QueryMemberStatus>(fx), 0u);
  EXPECT_EQ(count<KillTask>(fx), 0u);
  ASSERT_TRUE(h.core.why_not_unlock().has_value());
  EXPECT_TRUE(h.step(OperatorUnlock{}).empty());
  EXPECT_EQ(h.core.members().size(), 2u);
  // The operator fixed the disk: POST /reseed tries again.
  EXPECT_FALSE(h.core.why_not_reseed().has_value());
  EXPECT_EQ(count<QueryMemberStatus>(h.step(OperatorReseed{})), 1u);
  EXPECT_FALSE(h.core.locked());
}

// The best candidate failed and is kept; the next holds less: seeding it
// would lose the writes only the kept one holds, so reseeds halt instead.
TEST(CoreFailedSeed, ALowerCandidateIsNotSeededWhileAKeptOneHoldsMore) {
  Harness h(config_of(5));
  const auto all = livelocked_five(h);
  auto orders = ranked(h, all, 100, 120);
  const auto first = orders.back();
  ASSERT_EQ(first.task_id, h.member("etcd-5")->task_id);
  const auto failed = untouched_failure(first, "disk full");
  auto fx = h.step(failed);
  EXPECT_EQ(count<ReseedOrder>(fx), 0u);
  fx = next_after_fresh_check(h, all, {{"etcd-4", 100}, {"etcd-5", 120}});
  EXPECT_TRUE(seed_orders(fx).empty());
  EXPECT_EQ(releases(fx), 2u);
  EXPECT_EQ(count<KillTask>(fx), 0u);
  EXPECT_TRUE(h.core.reseed_halted());
  EXPECT_NE(h.core.lock_reason().find("next candidate etcd-4 holds raft index 100"),
            std::string::npos)
      << h.core.lock_reason();
}

// The candidate refused because its etcd names a leader again: the check
// after it finds the cluster healthy, and the reseed ends without a seed.
TEST(CoreFailedSeed, ARefusalFollowedByAHealthyCheckAbandonsTheReseed) {
  Harness h(config_of(5));
  const auto all = livelocked_five(h);
  auto orders = ranked(h, all, 120, 120);
  const auto first = orders.back();
  const auto refused =
      untouched_failure(first, "etcd names a leader: a majority serves; not seeding");
  h.step(refused);
  h.tick_until_check();
  auto fx = h.answer_check(true);
  EXPECT_TRUE(seed_orders(fx).empty());
  EXPECT_EQ(releases(fx), 2u);  // the majority serves: every fence ends
  EXPECT_EQ(count<KillTask>(fx), 0u);
  EXPECT_FALSE(h.core.reseeding());
  EXPECT_FALSE(h.core.locked());
  EXPECT_NE(h.core.last_reseed_outcome().find("abandoned"), std::string::npos)
      << h.core.last_reseed_outcome();
}

TEST(CoreFailedSeed, StatusAnswersNamingALeaderAbandonTheReseed) {
  Harness h(config_of(5));
  const auto all = livelocked_five(h);
  auto query = next_query(h, all);
  auto fx = h.statuses_and_fences(MemberStatuses{
      query.query_id,
      {MemberHealth{"etcd-4", true, 9, 120, 8, ""}, MemberHealth{"etcd-5", true, 9, 120, 8, ""}}});
  EXPECT_EQ(count<ReseedOrder>(fx), 0u);
  EXPECT_FALSE(h.core.reseeding());
  EXPECT_NE(h.core.last_reseed_outcome().find("names a leader again"), std::string::npos)
      << h.core.last_reseed_outcome();
}

TEST(CorePartition, WhilePartitionedMesosIsAskedAboutEveryTaskNowAndThen) {
  Harness h(config_of(3));
  h.bring_up(3);
  const auto all = h.core.members();
  const auto fx = hold(h, 65000ms, seen(all, {{"etcd-1", 50}}, true, true));
  std::size_t implicit = 0;
  for (const auto& r : only<Reconcile>(fx)) {
    implicit += r.tasks.empty() ? 1 : 0;
  }
  EXPECT_GE(implicit, 2u);  // at once, then every 30 s
  EXPECT_LE(implicit, 3u);
}

TEST(CoreFailedSeed, ASeedThatMayHaveForkedIsStillStoppedBeforeTheNextCandidate) {
  Harness h(config_of(5));
  const auto all = livelocked_five(h);
  auto orders = ranked(h, all, 100, 120);
  const auto seed = orders.back();
  auto fx = h.step(ReseedReport{seed.task_id, seed.reseed_id, ReseedAction::kSeed, false,
                                "etcd exited before serving as the seed"});
  EXPECT_EQ(only<KillTask>(fx).size(), 1u);
  EXPECT_EQ(count<ReseedOrder>(fx), 0u);
  // Surely stopped now; still the next candidate only after a check that
  // starts now finds the majority lost (simulator, seed 6304997: the others
  // may have found each other again meanwhile).
  fx = h.report(*h.member("etcd-5"), TaskState::kKilled);
  EXPECT_EQ(count<ReseedOrder>(fx), 0u);
  fx = next_after_fresh_check(h, all, {{"etcd-4", 100}});
  const auto next = only<ReseedOrder>(fx);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].task_id, h.member("etcd-4")->task_id);
}

// The checks after a failed candidate saw the next one commit more than the
// ranking did (it found others again for a while): its new index counts, so
// it is not refused for holding less than the kept candidate.
TEST(CoreFailedSeed, TheRaftIndicesChecksSawSinceTheRankingCount) {
  Harness h(config_of(5));
  const auto all = livelocked_five(h);
  auto orders = ranked(h, all, 100, 120);
  ASSERT_EQ(orders.back().task_id, h.member("etcd-5")->task_id);
  h.step(untouched_failure(orders.back(), "disk full"));
  const auto next =
      only<ReseedOrder>(next_after_fresh_check(h, all, {{"etcd-4", 130}, {"etcd-5", 120}}));
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].task_id, h.member("etcd-4")->task_id);
  EXPECT_FALSE(h.core.reseed_halted());
}

// Case 4: the member that joined last reports TASK_RUNNING only after the
// failures of the older ones (a master failover reordered them).
TEST(CoreJoinedMember, AMemberThatJoinedHoldsTheDataSoItsLateRunningEndsInAReseedNotALock) {
  Harness h(config_of(3));
  h.bring_up(2);
  h.tick_until_check();
  h.answer_check(true);
  auto adds = only<AddEtcdMember>(h.offers({offer("o3", 3)}));
  ASSERT_EQ(adds.size(), 1u);
  auto launch = only<LaunchMember>(h.step(MemberAdded{"etcd-3", true, 33, ""}));
  ASSERT_EQ(launch.size(), 1u);
  const auto all_but_third = h.core.members();
  h.report(*h.member("etcd-1"), TaskState::kFailed);
  h.report(*h.member("etcd-2"), TaskState::kFailed);
  EXPECT_FALSE(h.core.locked()) << h.core.lock_reason();
  h.report(launch[0].spec.member, TaskState::kRunning);
  EXPECT_FALSE(h.core.locked());
  const auto all = h.core.members();
  h.tick_until_check();
  HealthResult r;
  r.reason = "no quorum: 1 of 3 members reachable";
  r.members = {MemberHealth{"etcd-3", true, 0, 40, 3, "etcdserver: no leader"}};
  for (const auto& m : all_but_third) {
    r.membership.push_back(listed(m, Harness::etcd_id_of(m.name)));
  }
  answer(h, r);
  EXPECT_TRUE(h.core.livelocked());
  EXPECT_TRUE(h.core.auto_reseed_at().has_value());
}

TEST(CoreJoinedMember, WhenTheJoinedMemberIsLostTooItIsATotalLoss) {
  Harness h(config_of(3));
  h.bring_up(2);
  h.tick_until_check();
  h.answer_check(true);
  h.offers({offer("o3", 3)});
  auto launch = only<LaunchMember>(h.step(MemberAdded{"etcd-3", true, 33, ""}));
  ASSERT_EQ(launch.size(), 1u);
  h.report(*h.member("etcd-1"), TaskState::kFailed);
  h.report(*h.member("etcd-2"), TaskState::kFailed);
  EXPECT_FALSE(h.core.locked());
  h.report(launch[0].spec.member, TaskState::kFailed);
  EXPECT_TRUE(h.core.locked());
  EXPECT_TRUE(h.core.total_loss());
}

// A member that ran but that the serving cluster's member list leaves out
// (left over from before a reseed whose end a dead scheduler never recorded)
// is retired: its "no leader" would keep every check unhealthy and the
// scheduler partitioned for good (simulator, persist seed 3623710).
TEST(CoreUnlistedMember, AMemberTheCommittingClusterDoesNotListIsRetired) {
  Harness h(config_of(3));
  h.bring_up(3);
  const auto all = h.core.members();
  auto verdict = seen(all, {{"etcd-1", 50}, {"etcd-2", 50}, {"etcd-3", 40}}, true, true);
  verdict.reason = "no leader: etcd-3 reports none";
  verdict.members[2].leader = 0;
  verdict.membership.pop_back();  // etcd-3 is not a member of this cluster
  const auto failed_before = h.core.stats().failed_servers;

  // Without a commit seen, the list may come from a member cut off from the
  // cluster: nothing is killed.
  auto unproven = verdict;
  unproven.commits = false;
  h.tick_until_check();
  EXPECT_EQ(count<KillTask>(answer(h, unproven)), 0u);
  EXPECT_EQ(h.core.members().size(), 3u);

  h.tick_until_check();
  const auto kills = only<KillTask>(answer(h, verdict));
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].task_id, all[2].task_id);
  EXPECT_EQ(h.core.members().size(), 2u);
  EXPECT_EQ(h.core.stats().failed_servers, failed_before);  // retired, not failed
  // The next fresh healthy check grows the cluster back to three.
  h.tick_until_check();
  h.answer_check(true);
  EXPECT_EQ(count<AddEtcdMember>(h.offers({offer("o9", 4)})), 1u);
}

// The majority re-forms during a reseed (simulator, persist seed 11264710):
// etcd-4 answered the status query below etcd-5, then found another member
// and committed more before its fence stopped it. The ranking follows what
// the stopped data holds, not the answers.
TEST(CoreFence, TheSeedIsTheFencedMemberWhoseStoppedDataHoldsMost) {
  Harness h(config_of(5));
  const auto all = livelocked_five(h);
  auto fx = answer_query(h, all);
  auto fences = only<ReseedOrder>(fx);
  ASSERT_EQ(fences.size(), 2u);
  EXPECT_TRUE(seed_orders(fx).empty());  // nobody seeds before every fence holds
  const std::string four = h.member("etcd-4")->task_id;
  const std::string five = h.member("etcd-5")->task_id;
  EXPECT_TRUE(seed_orders(h.step(ReseedReport{five, fences[0].reseed_id, ReseedAction::kFence, true,
                                              "stopped", false, 120}))
                  .empty());
  EXPECT_NE(h.core.reseed_status().find("1 fenced, 1 to report"), std::string::npos)
      << h.core.reseed_status();
  const auto seeds = seed_orders(h.step(
      ReseedReport{four, fences[0].reseed_id, ReseedAction::kFence, true, "stopped", false, 131}));
  ASSERT_EQ(seeds.size(), 1u);
  EXPECT_EQ(seeds[0].task_id, four);
}

TEST(CoreFence, AFenceRefusedBecauseALeaderIsNamedPostponesTheReseedAndReleasesTheOthers) {
  Harness h(config_of(5));
  const auto all = livelocked_five(h);
  auto fences = only<ReseedOrder>(answer_query(h, all));
  ASSERT_EQ(fences.size(), 2u);
  const std::string five = h.member("etcd-5")->task_id;
  h.step(
      ReseedReport{five, fences[0].reseed_id, ReseedAction::kFence, true, "stopped", false, 120});
  ReseedReport refused{h.member("etcd-4")->task_id, fences[0].reseed_id, ReseedAction::kFence,
                       false, "etcd names leader 9: a majority serves again; not fenced"};
  refused.data_untouched = true;
  auto fx = h.step(refused);
  EXPECT_TRUE(seed_orders(fx).empty());
  EXPECT_EQ(count<KillTask>(fx), 0u);
  EXPECT_FALSE(h.core.reseeding());
  EXPECT_NE(h.core.last_reseed_outcome().find("etcd-4 could not be fenced"), std::string::npos)
      << h.core.last_reseed_outcome();
  // etcd-5 need not wait for its lease: its fence ends now, so the next
  // status query finds it answering.
  const auto released = only<ReseedOrder>(fx);
  ASSERT_EQ(released.size(), 1u);
  EXPECT_EQ(released[0].action, ReseedAction::kFence);
  EXPECT_EQ(released[0].task_id, five);
  EXPECT_EQ(released[0].lease, kFenceRelease);
}

TEST(CoreFence, AFenceWithoutAReportPostponesTheReseed) {
  Harness h(config_of(5));
  const auto all = livelocked_five(h);
  auto fences = only<ReseedOrder>(answer_query(h, all));
  h.step(ReseedReport{h.member("etcd-5")->task_id, fences[0].reseed_id, ReseedAction::kFence, true,
                      "stopped", false, 120});
  std::vector<Effect> fx;
  for (int i = 0; i < 30 && h.core.reseeding(); ++i) {
    fx = h.advance(1000ms);
    EXPECT_TRUE(seed_orders(fx).empty());
  }
  EXPECT_FALSE(h.core.reseeding());
  EXPECT_NE(h.core.last_reseed_outcome().find("etcd-4 did not report a fence"), std::string::npos)
      << h.core.last_reseed_outcome();
}

// Seen on real Mesos: the reports came after the reseed had given up on
// them. Such a fence is released (once): nothing else would end it before
// its lease, and the next reseed would find the member silent.
TEST(CoreFence, AFenceReportedAfterItsReseedEndedIsReleasedOnce) {
  Harness h(config_of(5));
  const auto all = livelocked_five(h);
  auto fences = only<ReseedOrder>(answer_query(h, all));
  ASSERT_EQ(fences.size(), 2u);
  for (int i = 0; i < 120 && h.core.reseeding(); ++i) {
    h.advance(1000ms);
  }
  ASSERT_FALSE(h.core.reseeding());
  const std::string four = h.member("etcd-4")->task_id;
  const ReseedReport late{four, fences[0].reseed_id, ReseedAction::kFence, true, "stopped", false,
                          100};
  auto fx = h.step(late);
  EXPECT_EQ(releases(fx), 1u);
  EXPECT_EQ(only<ReseedOrder>(fx).at(0).task_id, four);
  // The release's own answer (a renewal for a moment) releases nothing more.
  EXPECT_EQ(releases(h.step(late)), 0u);
}

TEST(CoreFence, TheFencesAreRenewedWhileTheSeedStarts) {
  Harness h(config_of(5));
  const auto all = livelocked_five(h);
  const auto orders = ranked(h, all, 100, 120);
  ASSERT_EQ(orders.size(), 3u);
  const auto lease = 2 * h.core.config().seed_timeout;
  std::vector<ReseedOrder> renewals;
  for (Millis waited{0}; waited <= lease / 4 && renewals.empty(); waited += 1000ms) {
    renewals = only<ReseedOrder>(h.advance(1000ms));
  }
  // Only the member that is not the seed, well before its lease ends.
  ASSERT_EQ(renewals.size(), 1u);
  EXPECT_EQ(renewals[0].action, ReseedAction::kFence);
  EXPECT_EQ(renewals[0].task_id, h.member("etcd-4")->task_id);
  EXPECT_EQ(renewals[0].lease, lease);
}

}  // namespace
}  // namespace etcdmesos::core::testing
