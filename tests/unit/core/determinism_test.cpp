// Same seed and inputs, same effects; the describe() lines used in logs and
// golden scenario output.
#include "core_harness.hpp"

#include <gtest/gtest.h>

namespace etcdmesos::core::testing {
namespace {

std::vector<std::string> script(uint64_t seed) {
  Harness h(test_config(), seed);
  h.bring_up(3);
  h.report(*h.member("etcd-2"), TaskState::kFailed);
  h.tick_until_check();
  h.answer_check(true);
  h.advance(60000ms);
  std::vector<std::string> lines;
  for (const auto& e : h.history) {
    lines.push_back(describe(e));
  }
  return lines;
}

TEST(CoreDeterminism, SameSeedSameEffects) {
  const auto a = script(7);
  const auto b = script(7);
  EXPECT_GT(a.size(), 10u);
  EXPECT_EQ(a, b);
}

TEST(CoreDeterminism, SeedChangesTaskIdsAndToken) {
  Harness a(test_config(), 1);
  Harness b(test_config(), 2);
  a.step(Subscribed{"fw"});
  b.step(Subscribed{"fw"});
  auto la = only<LaunchMember>(a.offers({offer("o1", 1)}))[0].spec;
  auto lb = only<LaunchMember>(b.offers({offer("o1", 1)}))[0].spec;
  EXPECT_EQ(la.member.name, lb.member.name);
  EXPECT_NE(la.member.task_id, lb.member.task_id);
  EXPECT_NE(la.cluster_token, lb.cluster_token);
}

TEST(CoreDeterminism, TaskIdsAreUnique) {
  Harness h;
  h.bring_up(3);
  std::set<std::string> ids;
  for (const auto& e : only<LaunchMember>(h.history)) {
    ids.insert(e.spec.member.task_id);
  }
  EXPECT_EQ(ids.size(), 3u);
}

Member sample_member() {
  Member m;
  m.name = "etcd-2";
  m.task_id = "etcd-2-0a1b2c3d";
  m.agent_id = "a2";
  m.host = "127.0.0.3";
  m.peer_port = 31000;
  m.client_port = 31001;
  return m;
}

TEST(Describe, Effects) {
  LaunchSpec spec{sample_member(), "etcd-1=http://127.0.0.2:31000,etcd-2=http://127.0.0.3:31000",
                  "existing", "tok"};
  EXPECT_EQ(describe(Effect{LaunchMember{"o7", spec}}),
            "launch etcd-2 on agent a2 (127.0.0.3) offer o7 peer=31000 client=31001 "
            "state=existing task=etcd-2-0a1b2c3d "
            "initial_cluster=etcd-1=http://127.0.0.2:31000,etcd-2=http://127.0.0.3:31000");
  EXPECT_EQ(describe(Effect{DeclineOffer{"o3", 5}}), "decline offer o3 refuse=5s");
  EXPECT_EQ(describe(Effect{DeclineOffer{"o3", 0.5}}), "decline offer o3 refuse=0.5s");
  EXPECT_EQ(describe(Effect{KillTask{"t1", "a1"}}), "kill task t1 on agent a1");
  EXPECT_EQ(describe(Effect{Acknowledge{"t1", "a1", std::string("\x01\xab", 2)}}),
            "acknowledge t1 uuid=01ab");
  EXPECT_EQ(describe(Effect{Reconcile{}}), "reconcile all (implicit)");
  EXPECT_EQ(describe(Effect{Reconcile{{{"t1", "a1"}, {"t2", "a2"}}}}), "reconcile t1@a1,t2@a2");
  EXPECT_EQ(describe(Effect{CheckHealth{3, {sample_member()}}}), "check health 3: etcd-2");
  EXPECT_EQ(describe(Effect{AddEtcdMember{"etcd-3", "http://h:1", {"http://a:2", "http://b:2"}}}),
            "add etcd member etcd-3 peer=http://h:1 via http://a:2,http://b:2");
  EXPECT_EQ(describe(Effect{RemoveEtcdMember{0x36a89ed0a8116476ULL, {"http://a:2"}}}),
            "remove etcd member id=36a89ed0a8116476 via http://a:2");
}

TEST(Describe, Events) {
  EXPECT_EQ(describe(Event{Subscribed{"fw-1"}}), "subscribed framework fw-1");
  EXPECT_EQ(describe(Event{Disconnected{}}), "disconnected");
  EXPECT_EQ(describe(Event{OffersReceived{{offer("o1", 1, {{31000, 31009}, {32000, 32000}})}}}),
            "offers 1: o1 agent a1 (127.0.0.2) cpus=2 mem=1024 disk=4096 ports=31000-31009,32000");
  EXPECT_EQ(describe(Event{OfferRescinded{"o1"}}), "rescind offer o1");
  StatusUpdate s = status("t1", "a1", TaskState::kLost, std::string("\xff", 1));
  s.reason = "REASON_AGENT_REMOVED";
  EXPECT_EQ(describe(Event{s}), "status t1 TASK_LOST agent a1 uuid=ff reason=REASON_AGENT_REMOVED");
  EXPECT_EQ(describe(Event{AgentLost{"a1"}}), "agent lost a1");
  HealthResult r{
      false, "term rose", {}, {EtcdMember{1, "etcd-1", {}, {}}, EtcdMember{2, "", {}, {}}}};
  EXPECT_EQ(
      describe(Event{HealthChecked{4, r}}),
      "health check 4: unhealthy (term rose) membership=[etcd-1,0000000000000002(unstarted)]");
  EXPECT_EQ(describe(Event{MemberAdded{"etcd-3", true, 255, ""}}),
            "member added etcd-3 id=00000000000000ff");
  EXPECT_EQ(describe(Event{MemberAdded{"etcd-3", false, 0, "boom"}}),
            "member add etcd-3 failed: boom");
  EXPECT_EQ(describe(Event{MemberRemoved{255, true, ""}}), "member removed id=00000000000000ff");
  EXPECT_EQ(describe(Event{MemberRemoved{255, false, "no quorum"}}),
            "member remove id=00000000000000ff failed: no quorum");
}

TEST(Describe, TaskStates) {
  EXPECT_EQ(to_string(TaskState::kRunning), "TASK_RUNNING");
  EXPECT_EQ(to_string(TaskState::kGoneByOperator), "TASK_GONE_BY_OPERATOR");
  EXPECT_FALSE(means_member_lost(TaskState::kKilling));
  EXPECT_TRUE(means_member_lost(TaskState::kUnreachable));
}

}  // namespace
}  // namespace etcdmesos::core::testing
