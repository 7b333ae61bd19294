// What etcd tells the core: health verdicts and the answers to membership
// changes; and the timeouts of both.
#include "core/health.hpp"
#include "core/scheduler_core.hpp"

#include <algorithm>

namespace etcdmesos::core {

void SchedulerCore::on(const HealthObserved& e, Millis now, Effects& out) {
  on(HealthChecked{e.check_id, judge_health(e.observations)}, now, out);
}

void SchedulerCore::on(const HealthChecked& e, Millis now, Effects& out) {
  const auto since = checks_.in_flight_since();
  const auto epoch = checks_.finish(e.check_id);
  if (!epoch) {
    return;  // an abandoned or unknown check: its verdict is stale
  }
  note_check_duration(now - *since);
  ++counters_.health_checks;
  if (!e.result.healthy) {
    ++counters_.health_failures[health_failure_class(e.result.reason)];
  }
  last_health_ = e.result;
  note_raft_indices(e.result);
  stats_.healthy = e.result.healthy && !locked_;
  const bool fresh = *epoch == epoch_;
  if (fresh) {
    fresh_ = e.result;
    forget_departed(e.result);
    if (retire_unlisted(e.result, now, out)) {
      return;  // the next check judges the cluster without them
    }
  }
  judge_livelock(e.result, fresh, now);
  consider_space_recovery(e.result, e.check_id, fresh, out);
  if (partition_ && subscribed_ && now >= partition_reconcile_at_) {
    // The core's own picture may be what is stale: a member it was told is
    // lost may serve (a re-registration overtaken by the older removal).
    // Mesos tells again what runs; an unknown task is then killed (found by
    // the simulator, seed 1146889).
    out.push_back(Reconcile{});
    partition_reconcile_at_ = now + kPartitionReconcileInterval;
  }
  // Only the seed is checked while seeding, and only after it restarted: a
  // fresh healthy verdict means it serves as a one-member cluster.
  if (fresh && e.result.healthy && reseed_ && reseed_->phase == Reseed::Phase::kSeeding &&
      reseed_->seed_reported && !reseed_->giving_up && may_act()) {
    seed_healthy(now, out);
  }
}

void SchedulerCore::forget_departed(const HealthResult& fresh) {
  std::erase_if(departed_, [&](const Member& gone) {
    return std::none_of(fresh.membership.begin(), fresh.membership.end(),
                        [&](const EtcdMember& listed) { return same_member(listed, gone); });
  });
}

bool SchedulerCore::retire_unlisted(const HealthResult& fresh, Millis now, Effects& out) {
  // The member list comes from the member the probe went through first (the
  // leader, if one answered): with a commit seen, it is the serving
  // cluster's. A member that ran and that it does not list belongs to no
  // cluster the scheduler runs: left over from the cluster before a reseed
  // whose end a dead scheduler did not record, or removed by hand. Its
  // "no leader" would keep every check unhealthy (found by the simulator,
  // persist seed 3623710: recovered from a record whose deletion failed, it
  // held the scheduler partitioned for good).
  if (!fresh.commits || fresh.membership.empty() || reseed_ || stray_seed_ || locked() ||
      change_in_flight() || !may_act()) {
    return false;
  }
  std::vector<Member> unlisted;
  for (const auto& m : members_) {
    const bool listed = std::any_of(fresh.membership.begin(), fresh.membership.end(),
                                    [&](const EtcdMember& l) { return same_member(l, m); });
    if (!listed && tracked_[m.task_id].ran) {
      unlisted.push_back(m);
    }
  }
  for (const auto& m : unlisted) {
    out.push_back(KillTask{m.task_id, m.agent_id});
    fail_member(m.task_id, now, Departure::kRetired);
  }
  return !unlisted.empty();
}

void SchedulerCore::on(const MemberAdded& e, Millis now, Effects& out) {
  auto* add = std::get_if<PendingAdd>(&change_);
  if (add == nullptr || add->member.name != e.name) {
    return;  // a late answer; a member it added shows up as unknown and is removed
  }
  PendingAdd pending = std::move(*add);
  change_ = std::monostate{};
  membership_changed(now);
  if (!e.ok) {
    abandon_add(pending, out);
    return;
  }
  if (!pending.offer_valid || pending.agent_lost || !may_act() || !can_persist()) {
    abandon_add(pending, out);
    // An added voter that never starts counts against the quorum: take it
    // out again rather than wait for the next check to find it.
    if (e.etcd_id != 0 && !locked_) {
      start_remove(e.etcd_id, now, out);
    }
    return;
  }
  // Every member etcd lists: the live ones, those that failed while the add
  // was in flight (not removed yet), and the new one.
  std::vector<Member> cluster = members_;
  cluster.insert(cluster.end(), departed_.begin(), departed_.end());
  cluster.push_back(pending.member);
  launch(std::move(pending.member), pending.offer_id, "existing", initial_cluster(cluster), now,
         out);
}

void SchedulerCore::on(const MemberRemoved& e, Millis now, Effects& out) {
  auto* remove = std::get_if<PendingRemove>(&change_);
  if (remove == nullptr || remove->etcd_id != e.etcd_id) {
    return;
  }
  const std::string retire = std::move(remove->retire_task);
  change_ = std::monostate{};
  if (e.ok && !retire.empty()) {
    // A shrink: etcd no longer counts it, so its end cannot cost the
    // quorum. Retired, not failed: nothing replaces it.
    if (const Member* m = find_member(retire)) {
      if (may_act()) {
        out.push_back(KillTask{m->task_id, m->agent_id});
      } else {
        // Not subscribed (or not in sync): killed as soon as the core may
        // act, like an unknown task (etcd also stops a removed member).
        strangers_[m->task_id] = m->agent_id;
      }
      fail_member(retire, now, Departure::kRetired);
    }
  }
  // Success or not, the next step needs a fresh membership list: a failed
  // removal is retried if etcd still lists the member.
  membership_changed(now);
}

void SchedulerCore::abandon_add(const PendingAdd& add, Effects& out) {
  if (add.offer_valid && subscribed_) {
    out.push_back(DeclineOffer{add.offer_id, config_.offer_refuse_seconds});
  }
}

void SchedulerCore::expire_health_check(Millis now) {
  const auto since = checks_.in_flight_since();
  const auto id = checks_.expire(now);
  if (!id) {
    return;
  }
  note_check_duration(now - *since);
  ++counters_.health_checks;
  ++counters_.health_failures["timeout"];
  HealthResult timed_out;
  timed_out.healthy = false;
  timed_out.reason = "health check " + std::to_string(*id) + " got no answer within " +
                     describe_duration(config_.health_check_timeout);
  last_health_ = timed_out;
  stats_.healthy = false;
  fresh_.reset();
}

void SchedulerCore::expire_pending_change(Millis now, Effects& out) {
  if (auto* add = std::get_if<PendingAdd>(&change_); add && now >= add->deadline) {
    const PendingAdd pending = std::move(*add);
    change_ = std::monostate{};
    membership_changed(now);
    abandon_add(pending, out);
  } else if (auto* remove = std::get_if<PendingRemove>(&change_);
             remove && now >= remove->deadline) {
    change_ = std::monostate{};
    membership_changed(now);
  }
}

void SchedulerCore::start_health_check(Millis now, Effects& out) {
  if (!subscribed_) {
    return;
  }
  auto targets = health_check_targets();
  if (targets.empty()) {
    return;
  }
  if (const auto id = checks_.start_if_due(now, epoch_)) {
    out.push_back(CheckHealth{*id, std::move(targets)});
  }
}

std::vector<Member> SchedulerCore::health_check_targets() {
  if (reseed_ && reseed_->phase == Reseed::Phase::kSeeding && !reseed_->seed_task.empty()) {
    // The seed alone: the old members still list the old membership, and
    // a check that asked them would judge the seed by a majority of it.
    const Member* seed = find_member(reseed_->seed_task);
    if (!reseed_->seed_reported || seed == nullptr) {
      return {};  // its etcd is restarting
    }
    return {*seed};
  }
  std::vector<Member> running;
  for (const auto& m : members_) {
    if (m.state == TaskState::kRunning) {
      running.push_back(m);
    }
  }
  return running;
}

}  // namespace etcdmesos::core
