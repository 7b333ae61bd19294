// A NOSPACE alarm: a member's backend reached its quota, and etcd refuses
// every write until space is recovered. The scheduler recovers as etcd
// documents it, one step at a time, each answered before the next:
//   1. compact the history below the current revision;
//   2. defragment each running member, one after the other, the leader last
//      (a member defragmenting answers nobody for that while);
//   3. deactivate the NOSPACE alarms.
// Rules:
//   - started only on a fresh verdict whose only fault is the alarm (a
//     majority answers and names one leader), from a check that started
//     after the last recovery ended (an older one may show an alarm since
//     disarmed: simulator seed 7002986), never while a reseed, a membership
//     change or a lock is on, and never two at once;
//   - a check that finds no quorum or no leader ends it after the step in
//     flight; a failed step ends it too. The next fresh verdict that still
//     shows the alarm starts it again (a check runs every
//     -health-check-interval), so nothing retries in a loop;
//   - it changes no membership and kills nothing: a NOSPACE verdict is never
//     a livelock (reseed_plan.hpp: only "no quorum" and "no leader" are).
#include "core/cluster_plan.hpp"
#include "core/health.hpp"
#include "core/reseed_plan.hpp"
#include "core/scheduler_core.hpp"

#include <algorithm>

namespace etcdmesos::core {

void SchedulerCore::consider_space_recovery(const HealthResult& result, uint64_t check_id,
                                            bool fresh, Effects& out) {
  if (!fresh) {
    return;
  }
  const bool no_space = !result.healthy && result.reason.starts_with(kNoSpaceReason);
  if (space_) {
    if (lacks_quorum(result)) {
      space_->abandon = true;
    }
    return;
  }
  if (!no_space || check_id <= space_settled_after_check_ || reseed_ || locked() ||
      change_in_flight() || !may_act()) {
    return;
  }
  std::vector<uint64_t> alarmed;
  for (const auto& alarm : result.alarms) {
    if (alarm.alarm == "NOSPACE" &&
        std::find(alarmed.begin(), alarmed.end(), alarm.member_id) == alarmed.end()) {
      alarmed.push_back(alarm.member_id);
    }
  }
  auto urls = running_client_urls(members_);
  if (alarmed.empty() || urls.empty()) {
    return;
  }
  // The leader's name, from the leader the members name and etcd's list.
  uint64_t leader = 0;
  for (const auto& m : result.members) {
    if (m.reachable && m.leader != 0) {
      leader = m.leader;
    }
  }
  std::string leader_name;
  for (const auto& m : result.membership) {
    if (m.id == leader) {
      leader_name = m.name;
    }
  }
  SpaceRecovery recovery;
  recovery.id = next_space_id_++;
  recovery.steps.push_back(RecoverSpace{recovery.id, RecoverSpace::Step::kCompact, urls, "", {}});
  std::vector<const Member*> running;
  for (const auto& m : members_) {
    if (m.state == TaskState::kRunning) {
      running.push_back(&m);
    }
  }
  std::stable_partition(running.begin(), running.end(),
                        [&](const Member* m) { return m->name != leader_name; });
  for (const Member* m : running) {
    recovery.steps.push_back(
        RecoverSpace{recovery.id, RecoverSpace::Step::kDefragment, {m->client_url()}, m->name, {}});
  }
  recovery.steps.push_back(
      RecoverSpace{recovery.id, RecoverSpace::Step::kDisarm, urls, "", alarmed});
  out.push_back(recovery.steps.front());
  recovery.steps.erase(recovery.steps.begin());
  space_ = std::move(recovery);
}

void SchedulerCore::on(const SpaceStepDone& e, Millis /*now*/, Effects& out) {
  if (!space_ || e.id != space_->id) {
    return;  // an answer to a recovery already ended
  }
  if (!e.ok || space_->abandon || space_->steps.empty() || locked() || reseed_) {
    space_.reset();
    space_settled_after_check_ = checks_.last_started();
    return;
  }
  out.push_back(space_->steps.front());
  space_->steps.erase(space_->steps.begin());
}

}  // namespace etcdmesos::core
