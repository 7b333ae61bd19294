// Recovery from etcd's NOSPACE alarm (scheduler_core_space.cpp, issue 13):
// compact, defragment each member one at a time with the leader last, then
// disarm; only while a majority answers with one leader, never two at once,
// and a NOSPACE verdict is never a livelock.
#include "core/health.hpp"
#include "core_harness.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace etcdmesos::core::testing {
namespace {

// What a check sees of a cluster whose backend is full: every member in
// `reachable` answers and names `leader`; the probe write is refused; etcd
// lists a NOSPACE alarm on each member in `alarmed`.
HealthObservations full_backend(const Harness& h, const std::string& leader,
                                const std::vector<std::string>& reachable,
                                const std::vector<std::string>& alarmed) {
  HealthObservations obs;
  for (const auto& m : h.core.members()) {
    const bool up = std::find(reachable.begin(), reachable.end(), m.name) != reachable.end();
    StatusSample s;
    s.reachable = up;
    s.member_id = Harness::etcd_id_of(m.name);
    s.leader = up ? Harness::etcd_id_of(leader) : 0;
    s.raft_index = 10;
    s.raft_term = 2;
    if (!up) {
      s.error = "no answer";
    }
    obs.members.push_back(MemberObservation{m.name, s, s});
    obs.membership.push_back(listed(m, Harness::etcd_id_of(m.name)));
  }
  obs.probe_error = "etcdserver: mvcc: database space exceeded";
  for (const auto& name : alarmed) {
    obs.alarms.push_back(MemberAlarm{Harness::etcd_id_of(name), "NOSPACE"});
  }
  return obs;
}

std::vector<Effect> check_sees(Harness& h, const HealthObservations& obs) {
  if (count<CheckHealth>(h.tick_until_check()) == 0) {
    ADD_FAILURE() << "no check was started";
    return {};
  }
  return h.step(HealthObserved{h.last_check_id, obs});
}

const std::vector<std::string> kAll = {"etcd-1", "etcd-2", "etcd-3"};

TEST(SpaceRecovery, TheVerdictNamesTheAlarmAndIsNoLivelock) {
  Harness h;
  h.bring_up(3);
  HealthObservations obs = full_backend(h, "etcd-2", kAll, {"etcd-1"});
  const auto verdict = judge_health(obs);
  EXPECT_FALSE(verdict.healthy);
  EXPECT_TRUE(verdict.reason.starts_with(kNoSpaceReason)) << verdict.reason;
  EXPECT_NE(verdict.reason.find("etcd-1"), std::string::npos) << verdict.reason;
  ASSERT_EQ(verdict.alarms.size(), 1u);
  obs.alarms.clear();
  EXPECT_TRUE(judge_health(obs).reason.starts_with("probe write failed")) << "without the alarm";
}

TEST(SpaceRecovery, CompactThenDefragmentOneMemberAtATimeLeaderLastThenDisarm) {
  Harness h;
  h.bring_up(3);
  auto fx = check_sees(h, full_backend(h, "etcd-2", kAll, {"etcd-1", "etcd-3"}));
  auto steps = only<RecoverSpace>(fx);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].step, RecoverSpace::Step::kCompact);
  EXPECT_EQ(steps[0].client_urls.size(), 3u);
  const uint64_t id = steps[0].id;

  std::vector<std::string> defragmented;
  for (int i = 0; i < 3; ++i) {
    // Another check meanwhile still sees the alarm: no second recovery.
    EXPECT_EQ(count<RecoverSpace>(check_sees(h, full_backend(h, "etcd-2", kAll, {"etcd-1"}))), 0u);
    fx = h.step(SpaceStepDone{id, true, ""});
    steps = only<RecoverSpace>(fx);
    ASSERT_EQ(steps.size(), 1u);
    ASSERT_EQ(steps[0].step, RecoverSpace::Step::kDefragment);
    ASSERT_EQ(steps[0].client_urls.size(), 1u);
    EXPECT_EQ(steps[0].client_urls[0], h.member(steps[0].member)->client_url());
    defragmented.push_back(steps[0].member);
  }
  EXPECT_EQ(defragmented.back(), "etcd-2") << "the leader last";
  std::sort(defragmented.begin(), defragmented.end());
  EXPECT_EQ(defragmented, kAll);

  fx = h.step(SpaceStepDone{id, true, ""});
  steps = only<RecoverSpace>(fx);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].step, RecoverSpace::Step::kDisarm);
  EXPECT_EQ(steps[0].alarm_members,
            (std::vector<uint64_t>{Harness::etcd_id_of("etcd-1"), Harness::etcd_id_of("etcd-3")}));
  // A check started before the last step is answered may list the alarm
  // that step disarms: it starts no second recovery (simulator seed
  // 7002986). A check started afterwards that still sees one does.
  ASSERT_GT(count<CheckHealth>(h.tick_until_check()), 0u);
  EXPECT_EQ(count<RecoverSpace>(h.step(SpaceStepDone{id, true, ""})), 0u) << "done";
  EXPECT_EQ(count<RecoverSpace>(h.step(
                HealthObserved{h.last_check_id, full_backend(h, "etcd-2", kAll, {"etcd-1"})})),
            0u);
  EXPECT_EQ(count<RecoverSpace>(check_sees(h, full_backend(h, "etcd-2", kAll, {"etcd-1"}))), 1u);
  // Nothing was killed, removed or reseeded on the way.
  for (const auto& e : h.history) {
    EXPECT_FALSE(std::holds_alternative<KillTask>(e) ||
                 std::holds_alternative<RemoveEtcdMember>(e) ||
                 std::holds_alternative<QueryMemberStatus>(e))
        << describe(e);
  }
  EXPECT_FALSE(h.core.livelocked());
}

TEST(SpaceRecovery, NotWithoutAMajorityAndNeverAReseed) {
  Harness h;
  h.bring_up(3);
  // Only one member answers: "no quorum" wins over the alarm.
  auto fx = check_sees(h, full_backend(h, "etcd-2", {"etcd-2"}, {"etcd-2"}));
  EXPECT_EQ(count<RecoverSpace>(fx), 0u);
  // A full backend for a long while: never a livelock, never a reseed.
  Harness full;
  full.bring_up(3);
  std::size_t recoveries = 0;
  for (int i = 0; i < 20; ++i) {
    fx = check_sees(full, full_backend(full, "etcd-1", kAll, {"etcd-1"}));
    for (const auto& step : only<RecoverSpace>(fx)) {
      ++recoveries;
      full.step(SpaceStepDone{step.id, false, "compaction refused"});
    }
  }
  EXPECT_FALSE(full.core.livelocked());
  EXPECT_EQ(count<QueryMemberStatus>(full.history), 0u);
  EXPECT_EQ(count<ReseedOrder>(full.history), 0u);
  EXPECT_EQ(recoveries, 20u) << "each check that still sees the alarm starts it again";
}

TEST(SpaceRecovery, AFailedStepOrALostMajorityEndsIt) {
  Harness h;
  h.bring_up(3);
  auto steps = only<RecoverSpace>(check_sees(h, full_backend(h, "etcd-2", kAll, {"etcd-1"})));
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(count<RecoverSpace>(h.step(SpaceStepDone{steps[0].id, false, "timed out"})), 0u);

  // Started again by the next check; a check without a majority then ends
  // it after the step in flight.
  steps = only<RecoverSpace>(check_sees(h, full_backend(h, "etcd-2", kAll, {"etcd-1"})));
  ASSERT_EQ(steps.size(), 1u);
  check_sees(h, full_backend(h, "etcd-2", {"etcd-3"}, {"etcd-1"}));
  EXPECT_EQ(count<RecoverSpace>(h.step(SpaceStepDone{steps[0].id, true, ""})), 0u);
  // An answer to a recovery that ended changes nothing.
  EXPECT_EQ(count<RecoverSpace>(h.step(SpaceStepDone{steps[0].id, true, ""})), 0u);
}

}  // namespace
}  // namespace etcdmesos::core::testing
