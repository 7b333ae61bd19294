// What the Mesos master tells the core: subscription, offers, task status,
// agent loss; and the member lifecycle those drive (launch timeouts, failure).
#include "core/scheduler_core.hpp"

#include <algorithm>
#include <utility>

namespace etcdmesos::core {

namespace {
// More failed members than this awaiting removal means etcd lost quorum long
// ago; the oldest are forgotten rather than kept without bound.
constexpr std::size_t kMaxDeparted = 32;
// Unknown tasks remembered while the core may not kill them; more than this
// means something else is wrong, and the periodic implicit reconciliation
// reports the rest again.
constexpr std::size_t kMaxStrangers = 64;
}  // namespace

void SchedulerCore::on(const Subscribed& e, Millis now, Effects& out) {
  subscribed_ = true;
  framework_id_ = e.framework_id;
  // Acknowledgements sent on the old connection may never have arrived.
  acks_.forget_all();
  // A (re-)subscription is a new connection: offers of the old one are void.
  if (auto* add = std::get_if<PendingAdd>(&change_)) {
    add->offer_valid = false;
  }
  bootstrap_hold_.reset();
  abandon_all_launches(now, out);
  // No status update could arrive while the master was away: a member still
  // starting gets its full launch timeout from now on.
  for (auto& [task_id, tracked] : tracked_) {
    if (!tracked.ran) {
      tracked.launch_deadline = now + config_.launch_timeout;
    }
    // A new master may not know the task's agent yet either: the grace for
    // TASK_UNKNOWN starts again with its first such answer.
    tracked.unknown_since.reset();
  }
  // Ask about every member known (persist mode: the picture may be stale, a
  // restart or failover may have lost updates) and stay immutable until
  // Mesos answered about each; without persistence only implicitly.
  std::vector<ReconcileTask> tasks;
  if (config_.persist) {
    for (const auto& m : members_) {
      tasks.push_back(ReconcileTask{m.task_id, m.agent_id});
    }
  }
  for (auto& r : reconcile_.start(tasks, now)) {
    out.push_back(std::move(r));
  }
  persist_framework_id(out);
}

void SchedulerCore::kill_strangers(Effects& out) {
  if (immutable() || strangers_.empty()) {
    return;
  }
  for (const auto& [task_id, agent_id] : strangers_) {
    out.push_back(KillTask{task_id, agent_id});
  }
  strangers_.clear();
}

void SchedulerCore::on(const Disconnected&, Millis now, Effects& out) {
  subscribed_ = false;
  reconcile_.stop();
  // Offers never survive a disconnection.
  if (auto* add = std::get_if<PendingAdd>(&change_)) {
    add->offer_valid = false;
  }
  bootstrap_hold_.reset();
  abandon_all_launches(now, out);
}

void SchedulerCore::on(const OffersReceived& e, Millis now, Effects& out) {
  for (const auto& offer : e.offers) {
    if (placement_for(offer, config_)) {
      agents_known_.insert(offer.agent_id);  // room for a member there
    }
  }
  std::vector<bool> used(e.offers.size(), false);
  reconcile(now, &e.offers, &used, out);
  const double refuse = refuse_seconds_now();
  for (std::size_t i = 0; i < e.offers.size(); ++i) {
    if (!used[i]) {
      out.push_back(DeclineOffer{e.offers[i].offer_id, refuse});
    }
  }
}

void SchedulerCore::on(const OfferRescinded& e, Millis now, Effects& out) {
  if (auto* add = std::get_if<PendingAdd>(&change_); add && add->offer_id == e.offer_id) {
    add->offer_valid = false;
  }
  drop_bootstrap_offers([&](const Placement& p) { return p.offer_id == e.offer_id; }, false, out);
  // A launch waiting for its record loses its offer: forgotten, and the
  // next pass picks another offer. A static bootstrap's other members go
  // with it, their offers declined: the next pass gathers offers afresh.
  for (const auto& [task_id, held] : held_launches_) {
    if (held.offer_id == e.offer_id) {
      abandon_launch(task_id, false, now, out, true);
      break;
    }
  }
}

void SchedulerCore::on(const StatusUpdate& e, Millis now, Effects& out) {
  on_update(e, now, out);
  // An executor's answer to a reseed order rides on a TASK_RUNNING update;
  // a duplicate is ignored by the reseed's own bookkeeping.
  if (e.reseed) {
    on(*e.reseed, now, out);
  }
}

void SchedulerCore::on_update(const StatusUpdate& e, Millis now, Effects& out) {
  // Any answer counts for the reconcile gate, a duplicate one included.
  reconcile_.heard(e.task_id);
  if (e.uuid) {
    const auto verdict = acks_.record(*e.uuid, now);
    if (verdict != AckLedger::Verdict::kDuplicate) {
      out.push_back(Acknowledge{e.task_id, e.agent_id, *e.uuid});
    }
    if (verdict != AckLedger::Verdict::kFirst) {
      return;  // already acted upon
    }
  }
  if (process_gone(e.state)) {
    note_task_gone(e.task_id);
  }
  Member* member = find_member(e.task_id);
  if (member == nullptr) {
    // A member that failed or was replaced came back (its agent re-registered):
    // it must never be re-admitted, the cluster has moved on without it.
    if (means_member_lost(e.state)) {
      strangers_.erase(e.task_id);
    } else if (!immutable()) {
      out.push_back(KillTask{e.task_id, e.agent_id});
    } else if (strangers_.size() < kMaxStrangers) {
      // Acknowledged, it is not reported again: kill it once the core may
      // (found by the simulator, persist seed 1201: a stray one-member
      // cluster reported while a restarted core waited for reconciliation
      // lived on beside the real one).
      strangers_[e.task_id] = e.agent_id;
    }
    return;
  }
  if (e.state == TaskState::kUnknown && keep_unknown(e, now)) {
    return;
  }
  tracked_[e.task_id].unknown_since.reset();
  const bool unconfirmed = unconfirmed_.erase(e.task_id) > 0;
  if (means_member_lost(e.state)) {
    note_seed_end(e.task_id, process_gone(e.state));
    if (unconfirmed && tracked_[e.task_id].ran && !process_gone(e.state) && !stray_seed_) {
      // A recovered member lost with its agent before Mesos confirmed it may
      // have been the seed of the dead scheduler's reseed, serving behind a
      // partition: quarantined as one (found by the simulator, persist seed
      // 314418: a restarted core seeded a second one-member cluster).
      stray_seed_ = StraySeed{e.task_id, e.agent_id, now};
    }
    // Its process ended on an agent still there: a crash, not an agent fault.
    const bool crashed = process_gone(e.state) && e.state != TaskState::kGone &&
                         e.state != TaskState::kGoneByOperator && e.state != TaskState::kDropped;
    // The executor says why a restore failed (a corrupt snapshot, a fetch
    // that failed): the lock's reason repeats it for the operator.
    restore_end_message_ =
        std::string(to_string(e.state)) + (e.message.empty() ? std::string() : ": " + e.message);
    fail_member(e.task_id, now, crashed ? Departure::kCrashed : Departure::kFailed);
    return;
  }
  if (tracked_[e.task_id].ran &&
      (e.state == TaskState::kStaging || e.state == TaskState::kStarting)) {
    // A late update from before TASK_RUNNING (reordered, or resent by the
    // master): a member never goes back to starting. Taking it would hide
    // the member from health checks for good (found by the simulator).
    return;
  }
  // A recovered launch that Mesos calls starting may still have run: the
  // agent resends its unacknowledged updates in order, so the dead
  // scheduler's TASK_STARTING arrives before the TASK_RUNNING that followed
  // it, and may_have_run stays until one of them settles it (found by the
  // simulator, persist seed 3768760: cleared by the late STARTING, the
  // member's loss bootstrapped a new cluster over the one it had served).
  member->state = e.state;
  if (e.state == TaskState::kRunning && !tracked_[e.task_id].ran) {
    member_ran(e.task_id, now);
  }
}

bool SchedulerCore::keep_unknown(const StatusUpdate& e, Millis now) {
  Tracked& tracked = tracked_[e.task_id];
  if (!tracked.unknown_since) {
    tracked.unknown_since = now;
  }
  if (now - *tracked.unknown_since >= config_.unknown_task_grace) {
    return false;
  }
  tracked.unknown_recheck_at = now + config_.unknown_task_recheck;
  return true;
}

void SchedulerCore::recheck_unknown(Millis now, Effects& out) {
  if (!subscribed_) {
    return;  // a subscription asks about every member anyway
  }
  Reconcile again;
  for (const auto& m : members_) {
    Tracked& tracked = tracked_[m.task_id];
    if (tracked.unknown_since && now >= tracked.unknown_recheck_at) {
      again.tasks.emplace_back(m.task_id, m.agent_id);
      tracked.unknown_recheck_at = now + config_.unknown_task_recheck;
    }
  }
  if (!again.tasks.empty()) {
    out.push_back(std::move(again));
  }
}

void SchedulerCore::on(const AgentLost& e, Millis now, Effects& out) {
  agents_known_.erase(e.agent_id);
  // The offer is not used, but still declined: a loss reported late (after
  // the agent re-registered) leaves the offer outstanding at the master, and
  // an offer never answered holds the agent's resources for good (found by
  // the simulator, seeds 13005223 and 8 more of --agents 3: no offer from
  // that agent ever again, and the cluster stayed one member short). A
  // decline of an offer the master dropped already is ignored.
  if (auto* add = std::get_if<PendingAdd>(&change_); add && add->member.agent_id == e.agent_id) {
    add->agent_lost = true;
  }
  drop_bootstrap_offers([&](const Placement& p) { return p.agent_id == e.agent_id; }, true, out);
  std::vector<std::string> held;
  for (const auto& [task_id, launch] : held_launches_) {
    if (launch.spec.member.agent_id == e.agent_id) {
      held.push_back(task_id);
    }
  }
  for (const auto& task_id : held) {
    abandon_launch(task_id, true, now, out);
  }
  std::vector<std::string> lost;
  for (const auto& m : members_) {
    if (m.agent_id == e.agent_id) {
      lost.push_back(m.task_id);
    }
  }
  for (const auto& task_id : lost) {
    note_seed_end(task_id, false);  // the agent may come back with it
    fail_member(task_id, now);
  }
}

void SchedulerCore::member_ran(const std::string& task_id, Millis now) {
  counters_.launches["running"] += tracked_[task_id].sent ? 1 : 0;
  tracked_[task_id].ran = true;
  tracked_[task_id].running_since = now;  // for etcd's 5-second check
  if (tracked_[task_id].bootstrap_peer) {
    for (auto& [id, peer] : tracked_) {
      peer.joined = peer.joined || peer.bootstrap_peer;
    }
  }
  if (const Member* m = find_member(task_id)) {
    write_task(*m, false);
  }
  // A member that joined before the last one that ran was lost holds the
  // data now, and its own record says so: the kept records may go.
  for (const auto& m : lost_records_) {
    write_task(m, true);
  }
  lost_records_.clear();
  ever_ran_ = true;
  if (!tracked_[task_id].restore_uri.empty()) {
    const Member* restored = find_member(task_id);
    last_restore_outcome_ = "restored from " + tracked_[task_id].restore_uri + " into " +
                            (restored ? restored->name : task_id) + "; the other members join it";
    restore_.reset();
  }
  // The launch is complete; the next decision needs a check that sees it.
  membership_changed(now);
}

void SchedulerCore::fail_member(const std::string& task_id, Millis now, Departure departure) {
  auto it = std::find_if(members_.begin(), members_.end(),
                         [&](const Member& m) { return m.task_id == task_id; });
  // What the update that ended it said, if one did (on_update).
  const std::string end_message = std::exchange(restore_end_message_, std::string());
  if (it == members_.end()) {
    return;
  }
  const Tracked tracked = tracked_[task_id];
  if (tracked.sent && !tracked.ran) {
    ++counters_.launches[departure == Departure::kTimedOut ? "timed_out" : "failed"];
  }
  if (tracked.ran && departure != Departure::kRetired) {
    // The cluster lost a member that served: the next member that joins
    // stands in for it.
    owed_replacements_ = std::min(owed_replacements_ + 1, config_.cluster_size);
  }
  const bool restore_failed_now = !tracked.restore_uri.empty() && !tracked.ran;
  if (tracked.may_hold_data() && !tracked.ran) {
    // A recovered record of a launch Mesos reports lost, or a member that
    // joined the cluster: it may have run and held the data (found by the
    // simulator, persist seed 301117), so a new cluster is not bootstrapped
    // after it without an operator's unlock.
    ever_ran_ = true;
  }
  if (tracked.may_hold_data()) {
    // Records count members known to have run (or recovered as possibly
    // run): a member that only joined has no record that says it might
    // hold data, so a restarted core would not know it did.
    const bool last_that_ran = std::none_of(tracked_.begin(), tracked_.end(), [&](const auto& t) {
      return t.first != task_id && (t.second.ran || t.second.may_have_run);
    });
    const bool may_serve_as_seed =
        (reseed_ && reseed_->seed_task == task_id && reseed_->seed_may_live) ||
        (stray_seed_ && stray_seed_->task_id == task_id);
    if (last_that_ran && config_.persist) {
      // Every member that held the data is gone: the core locks. Its record
      // stays until the operator unlocks, so that a restarted scheduler
      // (which hears that it is lost) locks too, instead of taking an empty
      // store for a new framework and bootstrapping an empty cluster (found
      // by the simulator with scheduler restarts, seed 300993).
      lost_records_.push_back(*it);
    } else if (may_serve_as_seed && config_.persist) {
      // Kept while quarantined, so that a restarted core quarantines it too.
      if (stray_record_) {
        write_task(*stray_record_, true);
      }
      stray_record_ = *it;
    } else {
      write_task(*it, true);
    }
  } else if (restore_failed_now && config_.persist) {
    // Kept like the records of a total loss: a scheduler restarted while
    // the core is locked for the failed restore recovers it, hears it ended,
    // and locks too, instead of bootstrapping an empty cluster.
    lost_records_.push_back(*it);
  } else {
    write_task(*it, true);  // persisted before its launch
  }
  held_launches_.erase(task_id);
  // Wait removed (docs/performance.md, "Waits"): the replacement's offer
  // would otherwise stay refused for offer_refuse_seconds after the declines
  // of the complete cluster.
  revive_due_ = revive_due_ || members_.size() >= config_.cluster_size;
  if (departure == Departure::kRetired) {
    // Killed on purpose after a reseed: its agent is fine, and the new
    // cluster never listed it, so there is nothing to remove from etcd.
    members_.erase(it);
    tracked_.erase(task_id);
    membership_changed(now);
    return;
  }
  penalise_agent(it->agent_id, now, departure == Departure::kCrashed);
  if (departed_.size() >= kMaxDeparted) {
    departed_.erase(departed_.begin());
  }
  departed_.push_back(*it);
  members_.erase(it);
  tracked_.erase(task_id);
  ++stats_.failed_servers;
  // etcd still lists the member: the next fresh check shows it as unknown and
  // the reconcile pass removes it before anything is launched.
  membership_changed(now);
  if (restore_failed_now) {
    restore_failed(tracked.restore_uri,
                   end_message.empty() ? "its task ended before it ran" : end_message);
  }
}

void SchedulerCore::expire_launches(Millis now, Effects& out) {
  if (immutable()) {
    return;  // a kill could not be sent; the deadline restarts on Subscribed
  }
  std::vector<Member> late;
  for (const auto& m : members_) {
    const auto& tracked = tracked_[m.task_id];
    if (!tracked.ran && now >= tracked.launch_deadline) {
      late.push_back(m);
    }
  }
  for (const auto& m : late) {
    if (held_launches_.contains(m.task_id)) {
      // Its record was never confirmed: it was not launched.
      abandon_launch(m.task_id, true, now, out);
      continue;
    }
    out.push_back(KillTask{m.task_id, m.agent_id});
    restore_end_message_ = "no TASK_RUNNING within " + describe_duration(config_.launch_timeout);
    fail_member(m.task_id, now, Departure::kTimedOut);
  }
}

}  // namespace etcdmesos::core
