// The pure health verdict: one test per reason, and the healthy cases.
#include "core/health.hpp"

#include <gtest/gtest.h>

namespace etcdmesos::core {
namespace {

constexpr uint64_t kLeader = 1111;

StatusSample answered(uint64_t index, uint64_t term = 2, uint64_t leader = kLeader) {
  StatusSample s;
  s.reachable = true;
  s.leader = leader;
  s.raft_index = index;
  s.raft_term = term;
  return s;
}

StatusSample silent(std::string error = "timed out after 2000 ms") {
  StatusSample s;
  s.error = std::move(error);
  return s;
}

MemberObservation member(std::string name, StatusSample before, StatusSample after) {
  return MemberObservation{std::move(name), std::move(before), std::move(after)};
}

// Three members, all answering, index 10 -> 11, term 2, probe ok.
HealthObservations healthy_three() {
  HealthObservations obs;
  obs.members = {member("m0", answered(10), answered(11)), member("m1", answered(10), answered(11)),
                 member("m2", answered(10), answered(11))};
  obs.probe_ok = true;
  obs.membership = {EtcdMember{1, "m0", {}, {}}, EtcdMember{2, "m1", {}, {}},
                    EtcdMember{3, "m2", {}, {}}};
  return obs;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

TEST(HealthVerdictTest, AllMembersAgreeAndProgress) {
  auto result = judge_health(healthy_three());
  EXPECT_TRUE(result.healthy) << result.reason;
  EXPECT_EQ(result.reason, "");
  ASSERT_EQ(result.members.size(), 3u);
  EXPECT_TRUE(result.members[0].reachable);
  EXPECT_EQ(result.members[0].leader, kLeader);
  EXPECT_EQ(result.members[0].raft_index, 11u);
  EXPECT_EQ(result.members[0].raft_term, 2u);
  EXPECT_EQ(result.membership.size(), 3u);
}

// What the web page shows per member: its own ID (so whether it is the
// leader) and its database size, from the status read after the probe.
TEST(HealthVerdictTest, EachMemberKeepsItsIdAndDatabaseSize) {
  auto obs = healthy_three();
  obs.members[0].after.member_id = kLeader;
  obs.members[0].after.db_size_bytes = 24576;
  obs.members[1].after.member_id = 2222;
  obs.members[1].before.db_size_bytes = 1;
  obs.members[1].after.db_size_bytes = 20480;
  obs.members[2] = member("m2", silent(), silent());
  auto result = judge_health(obs);
  ASSERT_EQ(result.members.size(), 3u);
  EXPECT_EQ(result.members[0].member_id, kLeader);
  EXPECT_EQ(result.members[0].db_size_bytes, 24576u);
  EXPECT_EQ(result.members[1].member_id, 2222u);
  EXPECT_EQ(result.members[1].db_size_bytes, 20480u);
  EXPECT_EQ(result.members[2].member_id, 0u);
  EXPECT_EQ(result.members[2].db_size_bytes, 0u);
}

TEST(HealthVerdictTest, OneSilentMemberOfThreeIsStillHealthy) {
  auto obs = healthy_three();
  obs.members[2] = member("m2", silent(), silent());
  auto result = judge_health(obs);
  EXPECT_TRUE(result.healthy) << result.reason;
  EXPECT_FALSE(result.members[2].reachable);
  EXPECT_EQ(result.members[2].error, "timed out after 2000 ms");
}

TEST(HealthVerdictTest, OnlyFollowersAdvancingIsEnough) {
  auto obs = healthy_three();
  obs.members[0].after.raft_index = 10;  // read just before it applied the probe
  EXPECT_TRUE(judge_health(obs).healthy);
}

TEST(HealthVerdictTest, MinorityReachableIsNoQuorum) {
  auto obs = healthy_three();
  obs.members[1] = member("m1", silent(), silent());
  obs.members[2] = member("m2", silent(), silent());
  auto result = judge_health(obs);
  EXPECT_FALSE(result.healthy);
  EXPECT_EQ(result.reason, "no quorum: 1 of 3 members reachable");
}

TEST(HealthVerdictTest, HalfIsNotAMajority) {
  HealthObservations obs;
  obs.members = {member("m0", answered(1), answered(2)), member("m1", silent(), silent())};
  obs.probe_ok = true;
  auto result = judge_health(obs);
  EXPECT_FALSE(result.healthy);
  EXPECT_TRUE(starts_with(result.reason, "no quorum")) << result.reason;
}

TEST(HealthVerdictTest, EtcdMembershipCountsTowardsTheKnownMembers) {
  // The scheduler knows two members, but etcd lists five: two of five is
  // no majority.
  HealthObservations obs;
  obs.members = {member("m0", answered(1), answered(2)), member("m1", answered(1), answered(2))};
  obs.probe_ok = true;
  for (uint64_t id = 1; id <= 5; ++id) {
    obs.membership.push_back(EtcdMember{id, "m" + std::to_string(id), {}, {}});
  }
  auto result = judge_health(obs);
  EXPECT_FALSE(result.healthy);
  EXPECT_EQ(result.reason, "no quorum: 2 of 5 members reachable");
}

TEST(HealthVerdictTest, NoMembersIsNoQuorum) {
  auto result = judge_health(HealthObservations{});
  EXPECT_FALSE(result.healthy);
  EXPECT_EQ(result.reason, "no quorum: no members known");
}

TEST(HealthVerdictTest, MemberWithoutLeaderIsNoLeader) {
  auto obs = healthy_three();
  obs.members[1].after.leader = 0;
  obs.members[1].after.errors = {"etcdserver: no leader"};
  auto result = judge_health(obs);
  EXPECT_FALSE(result.healthy);
  EXPECT_EQ(result.reason, "no leader: m1 reports none (etcdserver: no leader)");
  EXPECT_EQ(result.members[1].error, "etcdserver: no leader");
}

TEST(HealthVerdictTest, MembersFollowingDifferentLeadersDisagree) {
  auto obs = healthy_three();
  obs.members[2].after.leader = 2222;
  auto result = judge_health(obs);
  EXPECT_FALSE(result.healthy);
  EXPECT_EQ(result.reason, "leader disagreement: m1 follows 1111, m2 follows 2222");
}

TEST(HealthVerdictTest, FailedProbeIsUnhealthy) {
  auto obs = healthy_three();
  obs.probe_ok = false;
  obs.probe_error = "etcd 500: context deadline exceeded";
  auto result = judge_health(obs);
  EXPECT_FALSE(result.healthy);
  EXPECT_EQ(result.reason, "probe write failed: etcd 500: context deadline exceeded");
}

TEST(HealthVerdictTest, RisingTermIsUnhealthyEvenWithProgress) {
  auto obs = healthy_three();
  obs.members[0].after.raft_term = 3;
  auto result = judge_health(obs);
  EXPECT_FALSE(result.healthy);
  EXPECT_EQ(result.reason, "raft term changed on m0: 2 -> 3 (an election during the check)");
}

TEST(HealthVerdictTest, StillCommitIndexIsNoProgress) {
  auto obs = healthy_three();
  for (auto& m : obs.members) {
    m.after.raft_index = m.before.raft_index;
  }
  auto result = judge_health(obs);
  EXPECT_FALSE(result.healthy);
  EXPECT_EQ(result.reason, "no progress: the commit index did not advance over the check");
}

TEST(HealthVerdictTest, ProgressNeedsAMemberSeenOnBothSides) {
  auto obs = healthy_three();
  for (auto& m : obs.members) {
    m.before = silent();
  }
  auto result = judge_health(obs);
  EXPECT_FALSE(result.healthy);
  EXPECT_TRUE(starts_with(result.reason, "no progress: no member answered both")) << result.reason;
}

TEST(HealthVerdictTest, QuorumIsJudgedBeforeLeader) {
  auto obs = healthy_three();
  obs.members[0].after.leader = 0;
  obs.members[1] = member("m1", silent(), silent());
  obs.members[2] = member("m2", silent(), silent());
  EXPECT_TRUE(starts_with(judge_health(obs).reason, "no quorum"));
}

TEST(HealthVerdictTest, ACommitSeenThroughOneReachableMemberIsRecordedDespiteNoQuorum) {
  HealthObservations obs;
  obs.members = {member("m0", answered(10), answered(12)), member("m1", silent(), silent()),
                 member("m2", silent(), silent())};
  obs.probe_ok = false;
  auto r = judge_health(obs);
  EXPECT_FALSE(r.healthy);
  EXPECT_TRUE(r.reason.starts_with("no quorum")) << r.reason;
  EXPECT_TRUE(r.commits);
}

TEST(HealthVerdictTest, NoCommitSeenWithoutAdvanceOrProbe) {
  HealthObservations obs;
  // The index stands still, and an advance without a leader proves nothing.
  obs.members = {member("m0", answered(10), answered(10)),
                 member("m1", answered(10, 2, 0), answered(14, 2, 0)),
                 member("m2", silent(), silent())};
  EXPECT_FALSE(judge_health(obs).commits);
  obs.probe_ok = true;
  EXPECT_TRUE(judge_health(obs).commits);
}

TEST(HealthProbeOrderTest, LeaderFirstThenMembersThatNameALeaderThenTheRest) {
  StatusSample isolated = answered(5, 9, 0);  // answers, but has no leader
  isolated.member_id = 1;
  StatusSample follower = answered(10);
  follower.member_id = 2;
  StatusSample leader = answered(10);
  leader.member_id = kLeader;
  EXPECT_EQ(probe_order({isolated, silent(), follower, leader}),
            (std::vector<std::size_t>{3, 2, 0}));
  EXPECT_EQ(probe_order({isolated, follower}), (std::vector<std::size_t>{1, 0}));
  EXPECT_TRUE(probe_order({silent(), silent()}).empty());
}

}  // namespace
}  // namespace etcdmesos::core
