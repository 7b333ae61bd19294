// The pure reconcile decision and its helpers.
#include "core/cluster_plan.hpp"
#include "core/ack_ledger.hpp"
#include "core_harness.hpp"

#include <gtest/gtest.h>

namespace etcdmesos::core::testing {
namespace {

Member running(const std::string& name, const std::string& host) {
  Member m;
  m.name = name;
  m.host = host;
  m.peer_port = 2380;
  m.client_port = 2379;
  m.state = TaskState::kRunning;
  return m;
}

ClusterPicture healthy_picture(std::size_t live, std::size_t desired) {
  ClusterPicture p;
  p.desired = desired;
  p.live = live;
  p.survivors = live;
  p.ever_ran = true;
  p.fresh_check = true;
  p.fresh_healthy = true;
  return p;
}

TEST(PlanNext, PrecedenceOfTheRules) {
  EXPECT_EQ(plan_next(healthy_picture(2, 3)).step, NextStep::kGrow);
  EXPECT_EQ(plan_next(healthy_picture(3, 3)).step, NextStep::kWait);

  ClusterPicture p = healthy_picture(0, 3);
  p.survivors = 0;
  p.change_in_flight = true;
  EXPECT_EQ(plan_next(p).step, NextStep::kLock);  // lock beats everything

  p = healthy_picture(0, 3);
  p.ever_ran = false;
  p.fresh_check = false;
  EXPECT_EQ(plan_next(p).step, NextStep::kBootstrap);
  p.change_in_flight = true;
  EXPECT_EQ(plan_next(p).step, NextStep::kWait);

  p = healthy_picture(2, 3);
  p.fresh_check = false;
  EXPECT_EQ(plan_next(p).step, NextStep::kWait);

  p = healthy_picture(3, 3);
  p.fresh_healthy = false;  // removal does not need a healthy verdict
  p.unknown = {EtcdMember{9, "x", {}, {}}, EtcdMember{4, "", {}, {}}};
  const Plan remove = plan_next(p);
  EXPECT_EQ(remove.step, NextStep::kRemove);
  EXPECT_EQ(remove.etcd_id, 9u);  // first as given; unknown_etcd_members sorts

  p = healthy_picture(2, 3);
  p.fresh_healthy = false;
  p.fresh_reason = "term rose";
  EXPECT_EQ(plan_next(p).step, NextStep::kWait);
  EXPECT_NE(plan_next(p).reason.find("term rose"), std::string::npos);

  p = healthy_picture(2, 3);
  p.unreachable = {"etcd-2"};
  EXPECT_EQ(plan_next(p).step, NextStep::kWait);
}

TEST(PlanNext, EmptyClusterSizeLaunchesNothing) {
  ClusterPicture p;
  p.desired = 0;
  EXPECT_EQ(plan_next(p).step, NextStep::kWait);
}

TEST(ClusterPlan, UnknownMembersMatchByNameOrPeerUrlAndAreSortedById) {
  const std::vector<Member> ours = {running("etcd-1", "h1"), running("etcd-2", "h2")};
  const std::vector<EtcdMember> listed_members = {
      EtcdMember{30, "etcd-1", {"http://h1:2380"}, {}},
      EtcdMember{20, "", {"http://h2:2380"}, {}},     // ours, unstarted
      EtcdMember{50, "old", {"http://h9:2380"}, {}},  // not ours
      EtcdMember{10, "", {"http://h8:2380"}, {}},     // not ours, unstarted
  };
  auto unknown = unknown_etcd_members(listed_members, ours);
  ASSERT_EQ(unknown.size(), 2u);
  EXPECT_EQ(unknown[0].id, 10u);
  EXPECT_EQ(unknown[1].id, 50u);
}

// A started member is known by its name only: a replacement on the same
// agent and port has the same peer URL (simulator, persist seed 11862682).
TEST(ClusterPlan, AStartedMemberIsMatchedByNameNotByItsPeerUrl) {
  const Member failed = running("etcd-1", "h1");
  const Member replacement = running("etcd-5", "h1");
  const EtcdMember listed_replacement{50, "etcd-5", {"http://h1:2380"}, {}};
  EXPECT_TRUE(same_member(listed_replacement, replacement));
  EXPECT_FALSE(same_member(listed_replacement, failed));
  const EtcdMember unstarted{60, "", {"http://h1:2380"}, {}};
  EXPECT_TRUE(same_member(unstarted, replacement));
  // Only the replacement's name: the failed member is unknown to etcd now.
  EXPECT_EQ(unknown_etcd_members({EtcdMember{30, "etcd-1", {"http://h1:2380"}, {}}}, {replacement})
                .size(),
            1u);
}

TEST(ClusterPlan, InitialClusterAndClientUrls) {
  std::vector<Member> ms = {running("etcd-1", "h1"), running("etcd-2", "h2")};
  ms[1].state = TaskState::kStaging;
  EXPECT_EQ(initial_cluster(ms), "etcd-1=http://h1:2380,etcd-2=http://h2:2380");
  EXPECT_EQ(running_client_urls(ms), std::vector<std::string>{"http://h1:2379"});
  EXPECT_EQ(initial_cluster({}), "");
}

TEST(ClusterPlan, UnreachableOnlyCountsRunningMembersReportedUnreachable) {
  std::vector<Member> ms = {running("etcd-1", "h1"), running("etcd-2", "h2"),
                            running("etcd-3", "h3")};
  HealthResult r;
  r.members = {MemberHealth{"etcd-1", true, 0, 0, 0, ""},
               MemberHealth{"etcd-2", false, 0, 0, 0, "refused"}};
  EXPECT_EQ(unreachable_members(r, ms), std::vector<std::string>{"etcd-2"});
}

TEST(AckLedger, DuplicatesRetriesAndEviction) {
  AckLedger ledger(8000ms, 2);
  EXPECT_EQ(ledger.record("a", 0ms), AckLedger::Verdict::kFirst);
  EXPECT_EQ(ledger.record("a", 100ms), AckLedger::Verdict::kDuplicate);
  EXPECT_EQ(ledger.record("a", 8000ms), AckLedger::Verdict::kRetry);
  EXPECT_EQ(ledger.record("a", 9000ms), AckLedger::Verdict::kDuplicate);
  EXPECT_EQ(ledger.record("b", 0ms), AckLedger::Verdict::kFirst);
  EXPECT_EQ(ledger.record("c", 0ms), AckLedger::Verdict::kFirst);  // evicts "a"
  EXPECT_EQ(ledger.size(), 2u);
  EXPECT_EQ(ledger.record("a", 9001ms), AckLedger::Verdict::kFirst);
  ledger.forget_all();
  EXPECT_EQ(ledger.size(), 0u);
  EXPECT_EQ(ledger.record("b", 9002ms), AckLedger::Verdict::kFirst);
}

}  // namespace
}  // namespace etcdmesos::core::testing
