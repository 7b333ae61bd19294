// Quorum loss: noticing a livelock, and the reseed that ends it by turning
// the most up-to-date survivor into a new one-member cluster. Also the
// operator's two interventions (reseed, unlock after a total loss).
//
// Safety rules (docs/architecture.md, "Reseed"):
//  - one reseed at a time, started only while livelocked and with no other
//    membership change in flight;
//  - every member that answered the status query is fenced before a seed
//    is chosen: its etcd stopped (the task kept) for a renewed lease, its
//    stopped data's commit index reported. No majority of old members can
//    commit behind the scheduler's back while the seed is chosen and starts,
//    and the ranking is on what each copy finally holds (the simulator's
//    "majority re-forms during a reseed" class, persist seed 3015469);
//  - the seed copies its data directory aside before --force-new-cluster
//    rewrites it;
//  - no old member is killed before a health check of the seed alone has
//    passed;
//  - a seed that is not healthy within seed_timeout is killed before the
//    next candidate is tried, so that two one-member clusters never run;
//  - a livelock needs agreeing evidence (reseed_plan.hpp): what the
//    scheduler reaches cannot commit, and Mesos does not report the members
//    it cannot reach running; otherwise the state is "partitioned";
//  - every running member answers the status query before a seed is chosen
//    (one that does not may hold the highest index), unless an operator
//    skips the silent ones;
//  - a candidate whose executor failed before changing its data is kept and
//    the next one tried; when every candidate failed, reseeds halt (locked)
//    and nothing is killed.
#include "core/reseed_plan.hpp"
#include "core/scheduler_core.hpp"

#include <algorithm>

namespace etcdmesos::core {

namespace {
// Silent members are asked again after this long, doubling up to the bound.
constexpr Millis kSilentRetryFirst{2000};
constexpr Millis kSilentRetryMax{30000};

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    out += (out.empty() ? "" : ", ") + n;
  }
  return out;
}
}  // namespace

bool SchedulerCore::launch_or_add_in_flight() const {
  if (std::holds_alternative<PendingAdd>(change_)) {
    return true;
  }
  return std::any_of(tracked_.begin(), tracked_.end(),
                     [](const auto& entry) { return !entry.second.ran; });
}

void SchedulerCore::judge_livelock(const HealthResult& result, bool fresh, Millis now) {
  if (!lacks_quorum(result)) {
    livelock_since_.reset();
    livelock_reason_.clear();
    if (fresh) {
      partition_.reset();
      reseed_halt_.reset();  // the majority is back: nothing to reseed
    }
    return;
  }
  // The scheduler's own view is no proof: a scheduler cut off from members
  // that still serve must never reseed them (issue 9, case 1). A commit seen
  // during a check proves a working majority however old the check: it
  // ends a livelock even when the membership changed meanwhile.
  const auto evidence = majority_evidence(result, unfenced_members());
  if (evidence.commits) {
    livelock_since_.reset();
    livelock_reason_.clear();
  }
  // A stale verdict may predate a member's return; and a cluster that has
  // just added a voter lacks a majority until that voter starts (etcd §8):
  // neither is a livelock.
  if (!fresh || launch_or_add_in_flight() || locked_) {
    return;
  }
  if (evidence.commits || !evidence.silent.empty()) {
    livelock_since_.reset();
    livelock_reason_.clear();
    partition_ = Partition{evidence.describe(result), evidence.commits, evidence.silent};
    return;
  }
  partition_.reset();
  if (!livelock_since_) {
    livelock_since_ = now;
    ++stats_.cluster_livelocks;
  }
  livelock_reason_ = result.reason;
}

std::optional<Millis> SchedulerCore::auto_reseed_at() const {
  if (!config_.auto_reseed || !livelock_since_ || reseed_ || locked()) {
    return std::nullopt;
  }
  Millis at = *livelock_since_ + config_.reseed_timeout;
  if (reseed_retry_at_) {
    at = std::max(at, *reseed_retry_at_);
  }
  if (stray_seed_) {
    at = std::max(at, stray_seed_->since + config_.stray_seed_quarantine);
  }
  return at;
}

bool SchedulerCore::stray_seed_blocks(Millis now) const {
  return stray_seed_ && now < stray_seed_->since + config_.stray_seed_quarantine;
}

void SchedulerCore::maybe_auto_reseed(Millis now, Effects& out) {
  const auto at = auto_reseed_at();
  if (!at || now < *at || !may_act() || change_in_flight() || stray_seed_blocks(now)) {
    return;
  }
  start_reseed(now,
               "automatic: livelocked for " + describe_duration(now - *livelock_since_) +
                   " (--reseed-timeout " + describe_duration(config_.reseed_timeout) + ")",
               false, out);
}

std::vector<std::string> SchedulerCore::silent_members() const {
  return last_health_ ? unreachable_members(*last_health_, members_) : std::vector<std::string>{};
}

const std::string& SchedulerCore::reseed_halt_text() const {
  static const std::string kNone;
  return reseed_halt_ ? *reseed_halt_ : kNone;
}

bool SchedulerCore::reseed_still_needed() const {
  if (livelock_since_) {
    return true;
  }
  return reseed_ && reseed_->skip_silent && partition_ && !partition_->commits;
}

std::optional<std::string> SchedulerCore::why_not_reseed(bool skip_silent) const {
  if (locked_) {
    return "every member is lost (total loss); a reseed needs a live member: " + lock_reason_;
  }
  if (immutable()) {
    return std::string("not subscribed to the Mesos master; try again when it is back");
  }
  if (reseed_) {
    return "a reseed is already under way: " + reseed_status();
  }
  if (stray_seed_ && last_now_ < stray_seed_->since + config_.stray_seed_quarantine) {
    return "the last seed (task " + stray_seed_->task_id + ") was lost with its agent " +
           stray_seed_->agent_id +
           " and may still serve as a one-member cluster behind a partition; a new seed now "
           "could make two clusters. Waiting until Mesos reports that task ended, or " +
           describe_duration(stray_seed_->since + config_.stray_seed_quarantine - last_now_) +
           " more";
  }
  if (!livelock_since_ && partition_) {
    if (partition_->commits) {
      return "the cluster commits although the scheduler sees no majority (" + partition_->reason +
             "): a reseed would destroy a serving cluster and the writes it acknowledges";
    }
    if (!skip_silent) {
      return "members " + join_names(partition_->silent) +
             " do not answer the scheduler but Mesos reports their tasks running: they may "
             "serve behind a partition, or hold the highest raft index. If you know they are "
             "gone or cut off for good, POST /reseed?skip-silent=true reseeds without them "
             "(they are retired once the seed is healthy, and what only they held is lost)";
    }
  } else if (!livelock_since_) {
    std::string state = last_health_
                            ? (last_health_->healthy ? std::string("healthy")
                                                     : "unhealthy: " + last_health_->reason)
                            : std::string("not checked yet");
    return "the cluster is not livelocked (the last health check: " + state +
           "); a reseed would throw away the members that still agree";
  }
  if (change_in_flight()) {
    return std::string("a membership change is in flight; try again in a few seconds");
  }
  return std::nullopt;
}

std::optional<std::string> SchedulerCore::why_not_unlock() const {
  if (reseed_halt_ && !locked_) {
    return "the scheduler is locked because every seed candidate failed, not after a total "
           "loss: the members still hold the data, and unlocking would throw it away. Fix the "
           "cause and POST /reseed to try again (" +
           *reseed_halt_ + ")";
  }
  if (!locked_) {
    return std::string("the scheduler is not locked");
  }
  return std::nullopt;
}

std::string SchedulerCore::reseed_status() const {
  if (!reseed_) {
    return "";
  }
  const std::string head = "reseed " + std::to_string(reseed_->id) + " (" + reseed_->why + "): ";
  if (reseed_->phase == Reseed::Phase::kRanking) {
    return head + "asking the live members for their raft index";
  }
  if (reseed_->phase == Reseed::Phase::kFencing) {
    return head + "stopping the members' etcd (fence) to rank what their data holds; " +
           std::to_string(reseed_->fenced.size()) + " fenced, " +
           std::to_string(reseed_->fence_pending.size()) + " to report";
  }
  const Member* seed = nullptr;
  for (const auto& m : members_) {
    if (m.task_id == reseed_->seed_task) {
      seed = &m;
    }
  }
  if (reseed_->seed_task.empty()) {
    return head +
           "the last candidate failed or was stopped; the next one once a fresh check still "
           "finds the majority lost";
  }
  const std::string name = seed ? seed->name : reseed_->seed_task;
  return head + (reseed_->seed_reported ? "waiting for seed " + name + " to be healthy alone"
                                        : "seed " + name + " is restarting as a new cluster");
}

void SchedulerCore::on(const OperatorReseed& e, Millis now, Effects& out) {
  if (why_not_reseed(e.skip_silent) || stray_seed_blocks(now)) {
    return;
  }
  reseed_halt_.reset();
  start_reseed(now,
               e.skip_silent ? "operator request, skipping silent members" : "operator request",
               e.skip_silent, out);
}

void SchedulerCore::on(const OperatorUnlock&, Millis now, Effects& out) {
  if (!locked_) {
    return;
  }
  leave_total_loss(now, false, out);
}

void SchedulerCore::leave_total_loss(Millis now, bool keep_records, Effects& out) {
  // Launches held for their records would join the lost cluster: given up,
  // offers declined (persist seed 3289828: released after the unlock, one
  // launched into the lost cluster, and its tracking blocked every later
  // change). Members launched into it can never start: stop them.
  while (!held_launches_.empty()) {
    abandon_launch(held_launches_.begin()->first, true, now, out);
  }
  for (const auto& m : members_) {
    out.push_back(KillTask{m.task_id, m.agent_id});
  }
  // A change in flight is waited for (or times out): one membership change
  // at a time, even across clusters, since the new cluster's members may
  // take the addresses the request was sent to (seed 1086845, a removal;
  // persist seed 3275472, an add). The add's offer is given back now.
  if (auto* add = std::get_if<PendingAdd>(&change_)) {
    abandon_add(*add, out);
    add->offer_valid = false;
  }
  members_.clear();
  tracked_.clear();
  departed_.clear();
  if (!keep_records) {
    for (const auto& m : lost_records_) {
      write_task(m, true);
    }
    lost_records_.clear();
  }
  restore_.reset();
  locked_ = false;
  lock_reason_.clear();
  ever_ran_ = false;  // the next member bootstraps a new cluster
  livelock_since_.reset();
  reseed_retry_at_.reset();
  membership_changed(now);
}

void SchedulerCore::start_reseed(Millis now, std::string why, bool skip_silent, Effects& out) {
  std::vector<Member> running;
  for (const auto& m : members_) {
    if (m.state == TaskState::kRunning) {
      running.push_back(m);
    }
  }
  Reseed r;
  r.id = next_reseed_id_++;
  r.query_id = next_query_id_++;
  r.deadline = now + config_.status_query_timeout;
  r.why = std::move(why);
  r.skip_silent = skip_silent;
  reseed_ = std::move(r);
  ++stats_.cluster_reseeds;
  out.push_back(QueryMemberStatus{reseed_->query_id, std::move(running)});
}

void SchedulerCore::on(const MemberStatuses& e, Millis now, Effects& out) {
  if (!reseed_ || reseed_->phase != Reseed::Phase::kRanking || e.query_id != reseed_->query_id) {
    return;
  }
  if (!reseed_still_needed()) {
    // A majority came back while the members were asked: nothing to repair,
    // and a seed would tear down a healthy cluster (found by the simulator).
    end_reseed(now, "abandoned: a majority of members is back");
    return;
  }
  // A member that names a leader serves a majority again: a seed now would
  // fork a second cluster beside it (found by the simulator, seed 1009413).
  for (const auto& s : e.members) {
    if (s.reachable && s.leader != 0) {
      end_reseed(now, "abandoned: " + s.name + " names a leader again (the majority may be back)");
      return;
    }
  }
  // A running member that does not answer may hold the highest raft index:
  // seeding without it could throw away what only it has (issue 9, case 3).
  const auto silent = unanswered_members(e.members, members_);
  if (!silent.empty() && !reseed_->skip_silent) {
    postpone_reseed(now, out,
                    join_names(silent) +
                        " did not answer the status query although Mesos reports their "
                        "tasks running (they may hold the highest raft index)");
    return;
  }
  reseed_->skipped = silent;
  auto candidates = rank_seed_candidates(e.members, members_);
  if (candidates.empty()) {
    end_reseed(now, "failed: no live member answered the status query");
    return;
  }
  if (!may_act()) {
    end_reseed(now, "abandoned: lost the Mesos master while ranking");
    return;
  }
  // Every candidate stops its etcd before one is chosen: members that find
  // each other again while the seed is chosen and restarts could otherwise
  // commit writes the seed lacks (found by the simulator, persist seeds
  // 3015469 and 11264710). Silent members skipped by an operator too: they
  // may run behind a partition that the framework message crosses.
  reseed_->phase = Reseed::Phase::kFencing;
  for (const auto& m : members_) {
    if (m.state == TaskState::kRunning) {
      reseed_->fence_pending.insert(m.task_id);
    }
  }
  // A fence takes the executor's status request and etcd's stop, which
  // without quorum can last the executor's whole stop grace (seen on real
  // Mesos: reports 18-20 s after the orders): the seed timeout, not the
  // status query's, bounds the wait.
  reseed_->deadline = now + config_.seed_timeout;
  send_fences(reseed_->fence_pending, now, out);
}

void SchedulerCore::postpone_reseed(Millis now, Effects& out, const std::string& why) {
  release_fences(out);
  const Millis wait =
      silent_retry_wait_ ? std::min(*silent_retry_wait_ * 2, kSilentRetryMax) : kSilentRetryFirst;
  silent_retry_wait_ = wait;
  end_reseed(now, "postponed: " + why + "; " +
                      (config_.auto_reseed ? "asking again in " + describe_duration(wait)
                                           : std::string("POST /reseed again to retry")) +
                      " (POST /reseed?skip-silent=true reseeds without silent members)");
  reseed_retry_at_ = now + wait;
}

void SchedulerCore::send_fences(const std::set<std::string>& task_ids, Millis now, Effects& out) {
  for (const auto& id : task_ids) {
    if (const Member* m = find_member(id)) {
      out.push_back(
          ReseedOrder{ReseedAction::kFence, reseed_->id, m->task_id, m->agent_id, fence_lease()});
    }
  }
  reseed_->fence_renew_at = now + fence_lease() / 4;
}

void SchedulerCore::release_fences(Effects& out) {
  // A fence renewed for a moment ends at once: etcd restarts as the member
  // it was, instead of staying down until the lease ends (a postponed
  // reseed would otherwise find it silent and wait for it). Fences still
  // on their way are left to their lease: a release could overtake them.
  if (released_fences_.size() > 256) {
    released_fences_.clear();  // old reseeds' answers come no more
  }
  for (const auto& id : reseed_->fenced) {
    if (const Member* m = find_member(id)) {
      released_fences_.insert({id, reseed_->id});
      out.push_back(
          ReseedOrder{ReseedAction::kFence, reseed_->id, m->task_id, m->agent_id, kFenceRelease});
    }
  }
  reseed_->fenced.clear();
}

std::vector<Member> SchedulerCore::unfenced_members() const {
  if (!reseed_) {
    return members_;
  }
  std::vector<Member> out;
  for (const auto& m : members_) {
    if (!reseed_->fenced.contains(m.task_id) && !reseed_->fence_pending.contains(m.task_id)) {
      out.push_back(m);
    }
  }
  return out;
}

void SchedulerCore::on_fence_report(const ReseedReport& e, Millis now, Effects& out) {
  if (!reseed_ && e.ok && may_act()) {
    // A fence that held after its reseed ended (postponed before the report
    // came): nothing will renew or release it, and its member would stay
    // down for the whole lease. Released once per reseed (the release's own
    // answer is an ok fence report too). A reseed that starts later fences
    // anew, and its order follows this release to the executor.
    const Member* m = find_member(e.task_id);
    if (m != nullptr && released_fences_.insert({e.task_id, e.reseed_id}).second) {
      out.push_back(
          ReseedOrder{ReseedAction::kFence, e.reseed_id, m->task_id, m->agent_id, kFenceRelease});
    }
    return;
  }
  if (!reseed_ || e.reseed_id != reseed_->id || reseed_->phase == Reseed::Phase::kRanking ||
      e.task_id == reseed_->seed_task) {
    return;
  }
  const Member* m = find_member(e.task_id);
  if (m == nullptr) {
    return;
  }
  const bool was_pending = reseed_->fence_pending.erase(e.task_id) > 0;
  if (e.ok) {
    if (was_pending || reseed_->fenced.contains(e.task_id)) {
      // What the stopped data holds: exact, and it cannot change now.
      reseed_->fenced.insert(e.task_id);
      reseed_->raft_index[e.task_id] = e.raft_index;
    }
  } else {
    // Its etcd may run (or run again): it is no fenced copy any more.
    reseed_->fenced.erase(e.task_id);
    if (was_pending && reseed_->phase == Reseed::Phase::kFencing) {
      postpone_reseed(now, out, m->name + " could not be fenced: " + e.message);
      return;
    }
  }
  if (reseed_->phase == Reseed::Phase::kFencing) {
    advance_fencing(now, out);
  }
}

void SchedulerCore::advance_fencing(Millis now, Effects& out) {
  std::erase_if(reseed_->fence_pending, [&](const std::string& id) {
    const Member* m = find_member(id);
    return m == nullptr || m->state != TaskState::kRunning;  // gone: nothing to fence
  });
  if (!reseed_->fence_pending.empty()) {
    if (now < reseed_->deadline) {
      return;
    }
    std::vector<std::string> names;
    for (const auto& id : reseed_->fence_pending) {
      names.push_back(find_member(id)->name);
    }
    if (!reseed_->skip_silent) {
      postpone_reseed(now, out,
                      join_names(names) + " did not report a fence within " +
                          describe_duration(config_.seed_timeout));
      return;
    }
    for (const auto& n : names) {
      if (std::find(reseed_->skipped.begin(), reseed_->skipped.end(), n) ==
          reseed_->skipped.end()) {
        reseed_->skipped.push_back(n);
      }
    }
    reseed_->fence_pending.clear();
  }
  // Launch order breaks ties, after one rule: a member that was silent on
  // the status query comes after those that answered it. It may be frozen or
  // sick, and among equal data the healthiest etcd should be the seed (seen
  // on the dev cluster: a frozen member launched first was seeded instead of
  // the one that answered). A silent member that reported its fence was
  // ranked after all, so it is no longer "skipped".
  std::vector<std::string> candidates;
  std::vector<std::string> silent_but_fenced;
  for (const auto& m : members_) {
    if (!reseed_->fenced.contains(m.task_id)) {
      continue;
    }
    const auto skipped = std::find(reseed_->skipped.begin(), reseed_->skipped.end(), m.name);
    if (skipped == reseed_->skipped.end()) {
      candidates.push_back(m.task_id);
    } else {
      silent_but_fenced.push_back(m.task_id);
      reseed_->skipped.erase(skipped);
    }
  }
  candidates.insert(candidates.end(), silent_but_fenced.begin(), silent_but_fenced.end());
  if (candidates.empty()) {
    end_reseed(now, "failed: no member was fenced");
    return;
  }
  silent_retry_wait_.reset();
  reseed_->phase = Reseed::Phase::kSeeding;
  reseed_->candidates = std::move(candidates);
  reseed_->next = 0;
  try_next_seed(now, out);
}

void SchedulerCore::try_next_seed(Millis now, Effects& out) {
  if (!reseed_still_needed()) {
    // The old cluster has a majority again (the previous seed, if any, is
    // gone): keep it rather than seed a new one.
    release_fences(out);
    end_reseed(now, "abandoned: a majority of members is back");
    return;
  }
  {
    // The raft indices the ranking saw may be old: members that found each
    // other again since may have committed more (found by the simulator,
    // seed 6304997: a survivor ranked last had caught up past the next
    // candidate). What the health checks saw since ranks the rest again
    // (note_raft_indices).
    auto rest = reseed_->candidates.begin() + static_cast<std::ptrdiff_t>(reseed_->next);
    std::stable_sort(rest, reseed_->candidates.end(), [&](const auto& a, const auto& b) {
      return reseed_->raft_index[a] > reseed_->raft_index[b];
    });
  }
  while (reseed_->next < reseed_->candidates.size()) {
    const std::string task_id = reseed_->candidates[reseed_->next];
    const Member* m = find_member(task_id);
    if (m == nullptr || m->state != TaskState::kRunning || !reseed_->fenced.contains(task_id)) {
      ++reseed_->next;
      continue;  // lost, or its etcd runs again, since the fence
    }
    if (reseed_->kept_index && reseed_->raft_index[task_id] < *reseed_->kept_index) {
      // A kept candidate holds writes this one lacks (issue 9: no
      // acknowledged write is thrown away while its holder runs).
      reseed_->failures.push_back(
          "next candidate " + m->name + " holds raft index " +
          std::to_string(reseed_->raft_index[task_id]) + ", below the kept members' " +
          std::to_string(*reseed_->kept_index) + ": seeding it would lose writes");
      break;
    }
    ++reseed_->next;
    reseed_->phase = Reseed::Phase::kSeeding;
    reseed_->seed_task = task_id;
    reseed_->seed_agent = m->agent_id;
    reseed_->seed_reported = false;
    reseed_->giving_up = false;
    reseed_->seed_may_live = false;
    reseed_->deadline = now + config_.seed_timeout;
    reseed_->fenced.erase(task_id);
    out.push_back(ReseedOrder{ReseedAction::kSeed, reseed_->id, m->task_id, m->agent_id});
    membership_changed(now);
    return;
  }
  release_fences(out);
  if (!reseed_->failures.empty()) {
    halt_reseeds(now);
    return;
  }
  end_reseed(now, "failed: no candidate became a healthy seed");
}

// The candidates failed before changing their data (or the next one holds
// less than a failed one): they all still hold it, and a next round would
// fail the same way (disk full, say). Stop and let the operator fix the
// cause (issue 9, case 2: each failed seed used to be killed, until nothing
// was left).
void SchedulerCore::halt_reseeds(Millis now) {
  const std::string failures = [&] {
    std::string out;
    for (const auto& f : reseed_->failures) {
      out += (out.empty() ? "" : "; ") + f;
    }
    return out;
  }();
  reseed_halt_ = "reseed " + std::to_string(reseed_->id) +
                 " found no candidate that could seed without losing data, and kept every "
                 "member with its data (" +
                 failures +
                 "); no automatic reseed until an operator fixes the cause and sends POST /reseed";
  end_reseed(now, "stopped, nothing killed: " + failures);
}

void SchedulerCore::on(const ReseedReport& e, Millis now, Effects& out) {
  if (e.action == ReseedAction::kFence) {
    on_fence_report(e, now, out);
    return;
  }
  if (!reseed_ || e.reseed_id != reseed_->id || e.action != ReseedAction::kSeed ||
      reseed_->phase != Reseed::Phase::kSeeding || e.task_id != reseed_->seed_task ||
      reseed_->seed_reported) {
    return;  // stale or repeated reports change nothing
  }
  if (!e.ok && e.data_untouched) {
    // Its etcd runs on as a member of the old cluster: keep it, try the next.
    const Member* seed = find_member(reseed_->seed_task);
    reseed_->failures.push_back((seed ? seed->name : e.task_id) + ": " + e.message);
    reseed_->kept_index =
        std::max(reseed_->kept_index.value_or(0), reseed_->raft_index[reseed_->seed_task]);
    reseed_->fenced.insert(reseed_->seed_task);  // its executor keeps the fence
    reseed_->seed_task.clear();
    reseed_->seed_agent.clear();
    // The next candidate only after a check that started now still finds
    // the majority lost: a candidate that refused may have seen the old
    // cluster lead again (seed 1009413: the majority came back while the
    // reseed ranked; the seed forked while the others committed on).
    reseed_->deadline = now + config_.seed_timeout;
    membership_changed(now);
    return;
  }
  if (!e.ok) {
    // It may have started with --force-new-cluster: it must stop before
    // another candidate becomes a one-member cluster.
    if (may_act()) {
      give_up_seed(now, "its executor failed: " + e.message, out);
    }
    return;
  }
  reseed_->seed_reported = true;
  // The next decision needs a check of the seed that started after this.
  membership_changed(now);
}

// Called from every reconcile pass while a reseed runs: deadlines, and a
// seed or candidates lost meanwhile.
void SchedulerCore::advance_reseed(Millis now, Effects& out) {
  if (const Plan plan = plan_next(picture()); plan.step == NextStep::kLock) {
    end_reseed(now, "failed: every member was lost during the reseed");
    lock(plan.reason);
    return;
  }
  if (!may_act()) {
    return;  // neither kills nor messages can be sent; deadlines wait
  }
  if (reseed_->phase != Reseed::Phase::kRanking && now >= reseed_->fence_renew_at &&
      !reseed_->fenced.empty()) {
    send_fences(reseed_->fenced, now, out);
  }
  if (reseed_->phase == Reseed::Phase::kFencing) {
    advance_fencing(now, out);
    return;
  }
  if (reseed_->phase == Reseed::Phase::kRanking) {
    if (now >= reseed_->deadline) {
      end_reseed(now, "failed: no answer to the status query within " +
                          describe_duration(config_.status_query_timeout));
    }
    return;
  }
  if (reseed_->seed_task.empty()) {
    // The last candidate failed and was kept: the next one once a fresh
    // check still shows the majority lost (try_next_seed abandons the
    // reseed otherwise), or when that check never comes.
    if (fresh_ || now >= reseed_->deadline) {
      try_next_seed(now, out);
    }
    return;
  }
  const Member* seed = find_member(reseed_->seed_task);
  if (seed == nullptr) {
    // The seed's task ended (reported by Mesos). Another member may only
    // become a seed once this one surely stopped: two one-member clusters
    // must never serve at once.
    if (reseed_->seed_may_live) {
      stray_seed_ = StraySeed{reseed_->seed_task, reseed_->seed_agent, now};
      end_reseed(now, "failed: seed task " + reseed_->seed_task +
                          " was lost with its agent and may still serve as a one-member "
                          "cluster; no other member is seeded before --reseed-timeout passes "
                          "(Mesos shuts the agent's tasks down when it returns)");
      return;
    }
    // Surely stopped. The next candidate, like after an untouched failure,
    // only once a check that starts now still finds the majority lost: the
    // others may have found each other again meanwhile (found by the
    // simulator, seed 6304997: two survivors healed and committed while the
    // first seed failed and was killed; the next was ordered at once, below
    // the index they had reached).
    reseed_->seed_task.clear();
    reseed_->seed_agent.clear();
    reseed_->deadline = now + config_.seed_timeout;
    membership_changed(now);
    return;
  }
  if (now >= reseed_->deadline) {
    give_up_seed(now,
                 reseed_->giving_up
                     ? "still running after the kill"
                     : "not healthy within " + describe_duration(config_.seed_timeout),
                 out);
  }
}

void SchedulerCore::note_task_gone(const std::string& task_id) {
  if (stray_seed_ && stray_seed_->task_id == task_id) {
    stray_seed_.reset();
  }
}

void SchedulerCore::note_raft_indices(const HealthResult& result) {
  if (!reseed_ || reseed_->phase != Reseed::Phase::kSeeding) {
    return;
  }
  for (const auto& h : result.members) {
    for (const auto& m : members_) {
      if (h.reachable && m.name == h.name && m.task_id != reseed_->seed_task) {
        auto& known = reseed_->raft_index[m.task_id];
        known = std::max(known, h.raft_index);
      }
    }
  }
}

void SchedulerCore::note_seed_end(const std::string& task_id, bool definitive) {
  if (reseed_ && reseed_->phase == Reseed::Phase::kSeeding && task_id == reseed_->seed_task &&
      !definitive) {
    reseed_->seed_may_live = true;
  }
}

void SchedulerCore::give_up_seed(Millis now, const std::string& why, Effects& out) {
  // It may already run as a one-member cluster: it must be gone before the
  // next candidate becomes one. Its data copy stays in its sandbox.
  // The next candidate is tried once Mesos reports the kill's end.
  last_reseed_outcome_ = "reseed " + std::to_string(reseed_->id) + ": gave up on seed task " +
                         reseed_->seed_task + " (" + why + ")";
  const Member* seed = find_member(reseed_->seed_task);
  if (seed == nullptr) {
    advance_reseed(now, out);
    return;
  }
  out.push_back(KillTask{seed->task_id, seed->agent_id});
  reseed_->giving_up = true;
  reseed_->deadline = now + config_.seed_timeout;  // then the kill is sent again
}

void SchedulerCore::seed_healthy(Millis now, Effects& out) {
  const std::string seed_task = reseed_->seed_task;
  std::vector<Member> old;
  for (const auto& m : members_) {
    if (m.task_id != seed_task) {
      old.push_back(m);
    }
  }
  // The new cluster never lists them; restarted, etcd would refuse them
  // ("the member has been permanently removed"). Kill them for good.
  for (const auto& m : old) {
    out.push_back(KillTask{m.task_id, m.agent_id});
    fail_member(m.task_id, now, Departure::kRetired);
  }
  const Member* seed = find_member(seed_task);
  std::string notes;
  if (!reseed_->skipped.empty()) {
    notes += "; skipped silent member(s) " + join_names(reseed_->skipped) + " (operator request)";
  }
  for (const auto& f : reseed_->failures) {
    notes += "; candidate failed and was kept until now: " + f;
  }
  end_reseed(now, "done: " + (seed ? seed->name : seed_task) + " seeded a new cluster; " +
                      std::to_string(old.size()) + " old member(s) retired" + notes);
  livelock_since_.reset();
  partition_.reset();
  livelock_reason_.clear();
  reseed_retry_at_.reset();
  membership_changed(now);
}

void SchedulerCore::end_reseed(Millis now, const std::string& outcome) {
  // The outcome's first word is its class (kReseedOutcomes).
  ++counters_.reseeds[outcome.substr(0, outcome.find_first_of(":, "))];
  last_reseed_outcome_ = "reseed " + std::to_string(reseed_->id) + " " + outcome;
  reseed_.reset();
  reseed_retry_at_ = now + config_.reseed_timeout;
}

}  // namespace etcdmesos::core
