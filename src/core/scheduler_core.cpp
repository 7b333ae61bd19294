// The driver of the state machine: step/tick, the reconcile pass and the
// actions it starts. Event handlers are in scheduler_core_mesos.cpp (what the
// master tells) and scheduler_core_etcd.cpp (what etcd tells).
#include "core/scheduler_core.hpp"

#include "common/backoff.hpp"

#include <algorithm>

namespace etcdmesos::core {

namespace {
// Enough for every update of a busy cluster between two subscriptions.
constexpr std::size_t kAckLedgerCapacity = 4096;
// "Never" for a periodic implicit reconciliation that is off: far enough
// that now + it cannot overflow.
constexpr Millis kNever{int64_t{1} << 52};

ReconcileConfig reconcile_config(const Config& c) {
  ReconcileConfig r;
  r.first_retry_after = c.reconcile_first_retry;
  r.max_retry_interval = c.reconcile_max_retry_interval;
  r.max_retries = c.reconcile_max_retries;
  r.implicit_interval =
      c.implicit_reconcile_interval > Millis{0} ? c.implicit_reconcile_interval : kNever;
  return r;
}
}  // namespace

SchedulerCore::SchedulerCore(Config config, uint64_t seed)
    : config_(std::move(config)),
      rng_(seed),
      acks_(config_.ack_retry_after, kAckLedgerCapacity),
      checks_(config_.health_check_interval, config_.health_check_timeout),
      reconcile_(reconcile_config(config_)) {
  if (!config_.restore_from.empty()) {
    restore_ = Restore{config_.restore_from, "-restore-from"};
  }
  backup_.enabled = config_.backup_interval > Millis{0};
}

std::vector<Effect> SchedulerCore::step(const Event& event, Millis now) {
  last_now_ = now;
  Effects out;
  if (const auto* offers = std::get_if<OffersReceived>(&event)) {
    counters_.offers_received += offers->offers.size();
  }
  std::visit([&](const auto& e) { on(e, now, out); }, event);
  // OffersReceived runs its own pass, with the offers in hand.
  if (!std::holds_alternative<OffersReceived>(event)) {
    reconcile(now, nullptr, nullptr, out);
  }
  kill_strangers(out);
  release_stray_record(now);
  revive_if_due(out);
  flush_writes(out);
  stats_.running_servers = count_running();
  count_effects(out);
  return out;
}

void SchedulerCore::count_effects(const Effects& out) {
  for (const auto& effect : out) {
    counters_.offers_declined += std::holds_alternative<DeclineOffer>(effect) ? 1 : 0;
  }
}

void SchedulerCore::note_check_duration(Millis duration) {
  std::size_t bucket = 0;
  while (bucket < kHealthCheckBucketsMs.size() &&
         duration.count() > kHealthCheckBucketsMs[bucket]) {
    ++bucket;
  }
  ++counters_.check_buckets[bucket];
  counters_.check_duration_sum += duration;
}

void SchedulerCore::revive_if_due(Effects& out) {
  if (!revive_due_ || !subscribed_) {
    return;  // asked once subscribed again: a REVIVE cannot be sent meanwhile
  }
  if (!locked_) {
    out.push_back(ReviveOffers{});
  }
  revive_due_ = false;
}

std::vector<Effect> SchedulerCore::tick(Millis now) {
  last_now_ = now;
  Effects out;
  expire_health_check(now);
  expire_pending_change(now, out);
  expire_launches(now, out);
  std::erase_if(agent_penalty_, [&](const auto& entry) {
    return entry.second.last_failure + config_.failed_agent_cooldown <= now;
  });
  tick_reconciliation(now, out);
  recheck_unknown(now, out);
  retry_writes(now, out);
  maybe_auto_reseed(now, out);
  reconcile(now, nullptr, nullptr, out);
  kill_strangers(out);
  release_stray_record(now);
  revive_if_due(out);
  start_health_check(now, out);
  maybe_backup(now, out);
  flush_writes(out);
  stats_.running_servers = count_running();
  count_effects(out);
  return out;
}

bool SchedulerCore::change_in_flight() const {
  if (!std::holds_alternative<std::monostate>(change_)) {
    return true;
  }
  // A launched member that has not reached TASK_RUNNING yet is a change too.
  return std::any_of(tracked_.begin(), tracked_.end(),
                     [](const auto& entry) { return !entry.second.ran; });
}

ClusterPicture SchedulerCore::picture() const {
  ClusterPicture p;
  p.desired = config_.cluster_size;
  p.live = members_.size();
  p.survivors = static_cast<std::size_t>(
      std::count_if(tracked_.begin(), tracked_.end(),
                    [](const auto& entry) { return entry.second.may_hold_data(); }));
  p.ever_ran = ever_ran_;
  p.change_in_flight = change_in_flight();
  p.livelocked = livelock_since_.has_value();
  p.livelock_reason = livelock_reason_;
  p.partitioned = partition_.has_value();
  if (partition_) {
    p.partition_reason = partition_->reason;
  }
  if (fresh_) {
    p.fresh_check = true;
    p.fresh_healthy = fresh_->healthy;
    p.fresh_reason = fresh_->reason;
    p.unknown = unknown_etcd_members(fresh_->membership, members_);
    p.unreachable = unreachable_members(*fresh_, members_);
    if (p.live > p.desired) {
      p.shrink = shrink_choice(members_, *fresh_);
    }
  }
  return p;
}

void SchedulerCore::reconcile(Millis now, const std::vector<OfferView>* offers,
                              std::vector<bool>* used, Effects& out) {
  if (locked_) {
    release_bootstrap_hold(subscribed_, out);
    return;
  }
  if (reseed_) {
    release_bootstrap_hold(subscribed_, out);
    advance_reseed(now, out);
    if (locked_ || reseed_) {
      return;
    }
  }
  const Plan plan = plan_next(picture());
  plan_reason_ = plan.reason;
  if (plan.step != NextStep::kBootstrap || immutable() || !can_persist()) {
    // Held for a bootstrap that cannot happen now: the offers go back.
    release_bootstrap_hold(subscribed_, out);
  }
  switch (plan.step) {
    case NextStep::kWait:
      return;
    case NextStep::kLock:
      if (immutable()) {
        // A total loss is declared only once Mesos has answered about every
        // member that may hold the data since the last subscription.
        plan_reason_ = reconcile_.describe() + "; would " + plan.reason;
        return;
      }
      lock(plan.reason);
      return;
    default:
      break;
  }
  if (immutable()) {
    // The picture may be stale while the master is away, or until Mesos has
    // answered about every member after a (re-)subscription: act on nothing.
    plan_reason_ =
        (subscribed_ ? reconcile_.describe() : std::string("not subscribed to the master")) +
        "; would " + plan.reason;
    return;
  }
  if (plan.step != NextStep::kRemove && plan.step != NextStep::kShrink && !can_persist()) {
    // A member launched now could not be recorded: a restarted scheduler
    // would not know it.
    plan_reason_ = "cannot persist (" + persist_status() + "); would " + plan.reason;
    return;
  }
  if (plan.step == NextStep::kRemove) {
    start_remove(plan.etcd_id, now, out);
    return;
  }
  if (plan.step == NextStep::kShrink) {
    start_remove(plan.etcd_id, now, out, plan.task_id);
    return;
  }
  if (plan.step == NextStep::kBootstrap) {
    // Ticks come here too: the window may end without a new offer.
    start_bootstrap(offers, used, now, out);
    return;
  }
  if (offers == nullptr || used == nullptr) {
    plan_reason_ += ": waiting for an offer";
    return;
  }
  start_member(plan.step, *offers, *used, now, out);
}

void SchedulerCore::start_member(NextStep step, const std::vector<OfferView>& offers,
                                 std::vector<bool>& used, Millis now, Effects& out) {
  auto choice = choose_offer(offers, config_, excluded_agents(now), avoided_agents(now));
  if (!choice) {
    plan_reason_ += ": no offer fits";
    return;
  }
  if (step == NextStep::kGrow && running_client_urls(members_).empty()) {
    plan_reason_ += ": no running member to ask";
    return;
  }
  if (const auto settled = join_settled_at();
      step == NextStep::kGrow && settled && now < *settled) {
    // etcd would answer "unhealthy cluster" and the add would be wasted.
    plan_reason_ += ": waiting for etcd's 5-second reconfiguration check after the last join";
    return;
  }
  used[choice->index] = true;
  Member member = new_member(choice->placement);
  // The offer is held, neither used nor declined, until etcd has accepted the
  // new member: launching first would start a member etcd refuses.
  out.push_back(AddEtcdMember{member.name, member.peer_url(), running_client_urls(members_)});
  change_ = PendingAdd{std::move(member), choice->placement.offer_id, true,
                       now + config_.membership_change_timeout};
}

std::optional<Millis> SchedulerCore::join_settled_at() const {
  // etcd 3.4's strict reconfiguration check (docs/performance.md, "Waits"):
  // every voter but the one serving the add must have been connected to it
  // for 5 s. A voter that left counts no more, and a one-member cluster has
  // nobody to wait for.
  std::optional<Millis> latest;
  std::size_t live = 0;
  for (const auto& m : members_) {
    auto it = tracked_.find(m.task_id);
    if (it == tracked_.end()) {
      continue;
    }
    ++live;
    if (it->second.running_since && (!latest || *it->second.running_since > *latest)) {
      latest = it->second.running_since;
    }
  }
  if (live < 2 || !latest) {
    return std::nullopt;
  }
  return *latest + config_.join_settle;
}

double SchedulerCore::refuse_seconds_now() const {
  // Below size, the next member needs an offer soon: decline only briefly.
  return members_.size() < config_.cluster_size && !locked_ &&
                 config_.offer_refuse_seconds_while_growing
             ? std::min(config_.offer_refuse_seconds, *config_.offer_refuse_seconds_while_growing)
             : config_.offer_refuse_seconds;
}

void SchedulerCore::start_remove(uint64_t etcd_id, Millis now, Effects& out,
                                 std::string retire_task) {
  auto urls = running_client_urls(members_);
  if (urls.empty()) {
    plan_reason_ += ": no running member to ask";
    return;
  }
  out.push_back(RemoveEtcdMember{etcd_id, std::move(urls)});
  change_ = PendingRemove{etcd_id, now + config_.membership_change_timeout, std::move(retire_task)};
}

void SchedulerCore::lock(const std::string& reason) {
  locked_ = true;
  reseed_halt_.reset();  // the total loss supersedes it
  restore_.reset();      // nothing is restored until an operator says so again
  lock_reason_ = reason;
  plan_reason_ = reason;
  owed_replacements_ = 0;  // the next cluster is a new one, replacing nothing
  stats_.healthy = false;
  livelock_since_.reset();
}

Member SchedulerCore::new_member(const Placement& placement) {
  Member m;
  m.name = "etcd-" + std::to_string(next_member_number_++);
  m.task_id = m.name + "-" + to_hex(rng_.next(), 8);
  m.agent_id = placement.agent_id;
  m.host = placement.host;
  m.peer_port = placement.ports.peer;
  m.client_port = placement.ports.client;
  m.state = TaskState::kStaging;
  m.tls = config_.tls;
  return m;
}

void SchedulerCore::launch(Member member, const std::string& offer_id,
                           const std::string& cluster_state, const std::string& initial, Millis now,
                           Effects& out, const std::string& restore_uri) {
  member.state = TaskState::kStaging;
  member.joins = cluster_state == "existing";
  LaunchSpec spec{member, initial, cluster_state, cluster_token_, restore_uri};
  tracked_[member.task_id] = Tracked{now + config_.launch_timeout, false};
  tracked_[member.task_id].restore_uri = restore_uri;
  if (config_.persist) {
    // Its record first: the launch waits, with the offer held, for
    // TaskPersisted (release_launch); the member counts as launching meanwhile.
    write_task(member, false);
    held_launches_[member.task_id] = HeldLaunch{offer_id, std::move(spec)};
    members_.push_back(std::move(member));
    return;
  }
  tracked_[member.task_id].joined = cluster_state == "existing";
  out.push_back(LaunchMember{offer_id, std::move(spec)});
  note_launch_sent(member.task_id, member.joins);
  members_.push_back(std::move(member));
}

void SchedulerCore::note_launch_sent(const std::string& task_id, bool joins) {
  ++stats_.launched_servers;
  tracked_[task_id].sent = true;
  if (joins && owed_replacements_ > 0) {
    --owed_replacements_;
    ++counters_.replacements;
  }
}

void SchedulerCore::membership_changed(Millis now) {
  ++epoch_;
  fresh_.reset();
  checks_.due_now(now);
}

Member* SchedulerCore::find_member(const std::string& task_id) {
  auto it = std::find_if(members_.begin(), members_.end(),
                         [&](const Member& m) { return m.task_id == task_id; });
  return it == members_.end() ? nullptr : &*it;
}

std::set<std::string> SchedulerCore::excluded_agents(Millis now) const {
  std::set<std::string> agents;
  if (config_.single_instance_per_agent) {
    for (const auto& m : members_) {
      agents.insert(m.agent_id);
    }
  }
  for (const auto& [agent, penalty] : agent_penalty_) {
    if (penalty.until > now) {
      agents.insert(agent);
    }
  }
  return agents;
}

std::set<std::string> SchedulerCore::avoided_agents(Millis now) const {
  std::set<std::string> agents;
  for (const auto& [agent, penalty] : agent_penalty_) {
    if (penalty.last_failure + config_.failed_agent_cooldown > now) {
      agents.insert(agent);
    }
  }
  return agents;
}

void SchedulerCore::penalise_agent(const std::string& agent_id, Millis now, bool crash) {
  auto& p = agent_penalty_[agent_id];
  if (p.failures > 0 && p.last_failure + config_.failed_agent_cooldown <= now) {
    p.failures = 0;  // fine for a while: start again from the shortest wait
  }
  ++p.failures;
  p.last_failure = now;
  p.until =
      now +
      (crash ? Backoff(config_.failed_agent_backoff, config_.failed_agent_cooldown).nth(p.failures)
             : config_.failed_agent_cooldown);
}

std::size_t SchedulerCore::count_running() const {
  return static_cast<std::size_t>(
      std::count_if(members_.begin(), members_.end(),
                    [](const Member& m) { return m.state == TaskState::kRunning; }));
}

}  // namespace etcdmesos::core
