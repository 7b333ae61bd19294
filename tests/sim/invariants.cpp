#include "invariants.hpp"

#include "core/rng.hpp"
#include "world.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <set>

namespace etcdmesos::sim {

namespace {

using core::Effect;
using core::Event;

template <class T>
const T* as(const Effect& e) {
  return std::get_if<T>(&e);
}
template <class T>
const T* as(const Event& e) {
  return std::get_if<T>(&e);
}

// An operator's unlock or restore: the lost cluster is given up, and a new
// one bootstraps (empty, or from a snapshot).
bool leaves_total_loss(const Event& ev) {
  return as<core::OperatorUnlock>(ev) != nullptr || as<core::OperatorRestore>(ev) != nullptr;
}

// Whether a status the core received tells it that the member is lost:
// every state means_member_lost() names but TASK_UNKNOWN. After a master
// failover TASK_UNKNOWN only says that the new master (in-memory registry)
// has not heard from the agent yet; the member may well run and serve.
bool tells_member_lost(core::TaskState state) {
  return core::means_member_lost(state) && state != core::TaskState::kUnknown;
}

// Whether an update excuses the core for giving the member up: it tells it
// is lost, or it is TASK_UNKNOWN from a master that has lost track of the
// agent (down while unknown to it), which is as good as unreachable.
bool excuses_giving_up(const core::StatusUpdate& s, const World& w) {
  return tells_member_lost(s.state) ||
         (s.state == core::TaskState::kUnknown && w.master_lost_track_of(s.agent_id));
}

const core::Member* core_member(const World& w, const std::string& task_id) {
  for (const auto& m : w.core().members()) {
    if (m.task_id == task_id) {
      return &m;
    }
  }
  return nullptr;
}

// etcd never lists more voters than the desired size plus the one change in
// flight (the largest size asked for: a shrink removes them one by one).
class MembershipBound final : public Invariant {
 public:
  const char* name() const override { return "membership-bound"; }
  std::optional<std::string> after_step(const World& w) override {
    const std::size_t limit = w.largest_size() + 1;
    for (const auto& c : w.clusters()) {
      if (c.voters.size() > limit) {
        return "cluster " + c.token + " has " + std::to_string(c.voters.size()) +
               " voters, more than " + std::to_string(limit);
      }
    }
    return std::nullopt;
  }
};

// What the core started and has not seen finish: an etcd add or remove (until
// answered, or until the core's own timeout gives it up) and launched members
// (until the core hears TASK_RUNNING or their loss, or kills them).
class ChangeLedger {
 public:
  void before_event(const Event& ev, const World& w) {
    expire(w.now());
    bootstrap_token_.clear();
    // In persist mode the launch waits for the member's record to be written
    // after its add: it comes in a later step (the add stays "just added"
    // until launched or another add starts).
    if (!w.config().persist) {
      just_added_.clear();
    }
    if (const auto* e = as<core::MemberAdded>(ev); e && add_ && add_->name == e->name) {
      add_.reset();
      if (e->ok) {
        just_added_ = e->name;
      }
    } else if (const auto* r = as<core::MemberRemoved>(ev);
               r && remove_ && *remove_ == r->etcd_id) {
      remove_.reset();
      remove_deadline_ = core::Millis{0};
    } else if (const auto* s = as<core::StatusUpdate>(ev)) {
      // TASK_UNKNOWN too: the core may give a launch up on it after its
      // grace, and a ledger that forgets early only judges more leniently.
      if (s->state == core::TaskState::kRunning || core::means_member_lost(s->state)) {
        launching_.erase(s->task_id);
      }
    } else if (const auto* l = as<core::AgentLost>(ev)) {
      std::erase_if(launching_, [&](const auto& entry) { return entry.second == l->agent_id; });
    } else if (leaves_total_loss(ev)) {
      add_.reset();
      remove_.reset();
      launching_.clear();
    }
  }

  // Describes what is in flight, or "" when nothing is.
  std::string in_flight(const World& w) {
    expire(w.now());
    if (add_) {
      return "the add of " + add_->name;
    }
    if (remove_) {
      return "the removal of etcd member " + core::to_hex(*remove_, 16);
    }
    if (!launching_.empty()) {
      return "the launch of task " + launching_.begin()->first;
    }
    return "";
  }

  void started_add(const core::AddEtcdMember& e, const World& w) {
    add_ = AddInFlight{e.name, w.now() + w.config().membership_change_timeout};
    just_added_.clear();
  }
  void started_remove(const core::RemoveEtcdMember& e, const World& w) {
    remove_ = e.etcd_id;
    remove_deadline_ = w.now() + w.config().membership_change_timeout;
  }
  void launched(const core::LaunchMember& e) {
    launching_[e.spec.member.task_id] = e.spec.member.agent_id;
    just_added_.clear();
    if (e.spec.cluster_state == "new") {
      bootstrap_token_ = e.spec.cluster_token;
    }
  }
  // The members of one static bootstrap go out in one step: one change.
  bool same_bootstrap(const core::LaunchMember& e) const {
    return e.spec.cluster_state == "new" && !bootstrap_token_.empty() &&
           e.spec.cluster_token == bootstrap_token_;
  }
  void killed(const std::string& task_id) { launching_.erase(task_id); }
  const std::string& just_added() const { return just_added_; }

 private:
  struct AddInFlight {
    std::string name;
    core::Millis deadline{0};
  };
  void expire(core::Millis now) {
    if (add_ && now >= add_->deadline) {
      add_.reset();
    }
    if (remove_ && now >= remove_deadline_) {
      remove_.reset();
    }
  }

  std::optional<AddInFlight> add_;
  std::optional<uint64_t> remove_;
  core::Millis remove_deadline_{0};
  std::map<std::string, std::string> launching_;  // task id -> agent id
  std::string just_added_;  // the add answered ok in the current step (persist: not launched yet)
  std::string bootstrap_token_;  // of a new cluster launched in the current step
};

// One membership change at a time: no add, remove or launch while another
// is in flight; a launch into an existing cluster only right after its add
// (in persist mode, after its add and the write of its record).
class OneChangeAtATime final : public Invariant {
 public:
  const char* name() const override { return "one-change-at-a-time"; }
  void before_event(const Event& ev, const World& w) override { ledger_.before_event(ev, w); }
  // The new core cannot know what the dead one had in flight (its answers
  // are void); membership-bound still judges what etcd ends up with.
  void on_scheduler_restart(const World&) override { ledger_ = ChangeLedger{}; }
  std::optional<std::string> on_effect(const Effect& effect, const World& w) override {
    if (const auto* k = as<core::KillTask>(effect)) {
      ledger_.killed(k->task_id);
      return std::nullopt;
    }
    if (const auto* add = as<core::AddEtcdMember>(effect)) {
      if (auto busy = ledger_.in_flight(w); !busy.empty()) {
        return "add of " + add->name + " while " + busy + " is in flight";
      }
      ledger_.started_add(*add, w);
    } else if (const auto* rm = as<core::RemoveEtcdMember>(effect)) {
      if (auto busy = ledger_.in_flight(w); !busy.empty()) {
        return "removal while " + busy + " is in flight";
      }
      ledger_.started_remove(*rm, w);
    } else if (const auto* launch = as<core::LaunchMember>(effect)) {
      const auto& name = launch->spec.member.name;
      if (auto busy = ledger_.in_flight(w); !busy.empty() && !ledger_.same_bootstrap(*launch)) {
        return "launch of " + name + " while " + busy + " is in flight";
      }
      if (launch->spec.cluster_state == "existing" && ledger_.just_added() != name) {
        return "launch of " + name + " into the existing cluster without its etcd add";
      }
      ledger_.launched(*launch);
    }
    return std::nullopt;
  }

 private:
  ChangeLedger ledger_;
};

// A new cluster is launched whole (static bootstrap, issue 12): the members
// launched with state "new" in one step share one token and one initial
// cluster, that cluster names exactly them, and no member is launched
// into it later with state "new" (a half-formed bootstrap topped up, or
// two bootstraps with one token, would form two clusters or one that lists
// members that never start).
class BootstrapWhole final : public Invariant {
 public:
  const char* name() const override { return "bootstrap-whole"; }
  void before_event(const Event&, const World&) override { check_step(); }
  std::optional<std::string> on_effect(const Effect& effect, const World&) override {
    const auto* launch = as<core::LaunchMember>(effect);
    if (launch == nullptr || launch->spec.cluster_state != "new") {
      return std::nullopt;
    }
    const auto& spec = launch->spec;
    if (step_.empty() && done_.contains(spec.cluster_token)) {
      return "launch of " + spec.member.name + " into cluster " + spec.cluster_token +
             " with state new after its bootstrap";
    }
    if (!step_.empty() &&
        (spec.cluster_token != step_token_ || spec.initial_cluster != step_initial_)) {
      return "launches of one step with state new disagree: " + spec.member.name + " has " +
             spec.cluster_token + " " + spec.initial_cluster + ", the step's first " + step_token_ +
             " " + step_initial_;
    }
    step_token_ = spec.cluster_token;
    step_initial_ = spec.initial_cluster;
    step_.push_back(spec.member.name + "=" + spec.member.peer_url());
    return std::nullopt;
  }
  std::optional<std::string> after_step(const World&) override { return check_step(); }

 private:
  std::optional<std::string> check_step() {
    if (step_.empty()) {
      return std::nullopt;
    }
    std::set<std::string> named;
    std::string rest = step_initial_;
    for (std::size_t at = 0; at <= rest.size();) {
      const auto comma = rest.find(',', at);
      named.insert(rest.substr(at, comma == std::string::npos ? std::string::npos : comma - at));
      if (comma == std::string::npos) {
        break;
      }
      at = comma + 1;
    }
    const std::set<std::string> launched(step_.begin(), step_.end());
    const std::string token = step_token_;
    const std::string initial = step_initial_;
    const std::size_t count = step_.size();
    step_.clear();
    done_.insert(token);
    if (launched != named || count != named.size()) {
      return "cluster " + token + " launched with " + std::to_string(count) +
             " member(s) but its initial cluster is " + initial;
    }
    return std::nullopt;
  }
  std::vector<std::string> step_;  // name=peer url of the new launches of this step
  std::string step_token_;
  std::string step_initial_;
  std::set<std::string> done_;  // tokens bootstrapped
};

// No member is added (and so launched) unless a health check that started
// after the last membership change found the cluster healthy. A new cluster
// is bootstrapped (without a check) only while no member of the current one
// has run, or after an operator's unlock.
class GrowOnlyWhenFreshlyHealthy final : public Invariant {
 public:
  const char* name() const override { return "grow-after-fresh-healthy-check"; }

  void before_event(const Event& ev, const World& w) override {
    if (const auto* h = as<core::HealthChecked>(ev)) {
      auto it = checks_.find(h->check_id);
      if (it != checks_.end() && it->second == epoch_ && h->result.healthy) {
        fresh_healthy_ = true;
      }
      return;
    }
    if (const auto* s = as<core::StatusUpdate>(ev);
        s && s->state == core::TaskState::kRunning && core_member(w, s->task_id) != nullptr) {
      held_data_.insert(s->task_id);  // the cluster holds data from now on
    }
    if (changes_membership(ev, w)) {
      ++epoch_;
      fresh_healthy_ = false;
    }
    if (leaves_total_loss(ev)) {
      held_data_.clear();
    }
  }

  std::optional<std::string> on_effect(const Effect& effect, const World& w) override {
    if (const auto* c = as<core::CheckHealth>(effect)) {
      checks_[c->check_id] = epoch_;
    } else if (const auto* add = as<core::AddEtcdMember>(effect)) {
      pending_add_ = add->name;
      if (!fresh_healthy_) {
        return "add of " + add->name +
               " without a healthy check started after the last membership change";
      }
    } else if (const auto* rm = as<core::RemoveEtcdMember>(effect)) {
      pending_remove_ = rm->etcd_id;
    } else if (const auto* launch = as<core::LaunchMember>(effect);
               launch && launch->spec.cluster_state == "new") {
      if (held_data(w)) {
        return "bootstrap of a new cluster (" + launch->spec.member.name +
               ") after a member ran, without an operator's unlock";
      }
    }
    (void)w;
    return std::nullopt;
  }
  // A new core numbers its checks afresh, and no check of the old one counts.
  void on_scheduler_restart(const World&) override {
    ++epoch_;
    fresh_healthy_ = false;
    checks_.clear();
    pending_add_.reset();
    pending_remove_.reset();
  }
  // Mesos killed every member: a new framework starts a new cluster.
  void on_framework_removed(const World&) override { held_data_.clear(); }

 private:
  // The events after which the core must look at the cluster again.
  bool changes_membership(const Event& ev, const World& w) {
    if (const auto* a = as<core::MemberAdded>(ev)) {
      const bool ours = pending_add_ == a->name;
      pending_add_.reset();
      return ours;
    }
    if (const auto* r = as<core::MemberRemoved>(ev)) {
      const bool ours = pending_remove_ == r->etcd_id;
      pending_remove_.reset();
      return ours;
    }
    if (const auto* s = as<core::StatusUpdate>(ev)) {
      const core::Member* m = core_member(w, s->task_id);
      if (m == nullptr) {
        return false;
      }
      // The first TASK_RUNNING completes a launch; a later one (after a
      // stale TASK_STARTING, say) changes nothing.
      return tells_member_lost(s->state) ||
             (s->state == core::TaskState::kRunning && ran_.insert(s->task_id).second);
    }
    if (const auto* l = as<core::AgentLost>(ev)) {
      const auto& members = w.core().members();
      return std::any_of(members.begin(), members.end(),
                         [&](const core::Member& m) { return m.agent_id == l->agent_id; });
    }
    if (const auto* r = as<core::ReseedReport>(ev)) {
      // A report of a dead scheduler's reseed reaches a core that has none
      // and ignores it (its own checks see the seed as it is).
      return r->action == core::ReseedAction::kSeed && r->ok && w.core().reseeding() &&
             core_member(w, r->task_id) != nullptr;
    }
    return leaves_total_loss(ev);
  }

  uint64_t epoch_ = 0;
  bool fresh_healthy_ = false;
  // Members the core saw running since the last unlock or framework removal.
  std::set<std::string> held_data_;
  // Whether a new cluster would replace one that held data. In persist
  // mode only a member whose record reached the store counts: a restarted
  // scheduler cannot know one whose record was never written, and kills it
  // as a stranger. Since records are written before the launch (checked by
  // nothing-before-framework-id-persisted) every launched member has one.
  bool held_data(const World& w) const {
    if (!w.config().persist) {
      return !held_data_.empty();
    }
    return std::any_of(held_data_.begin(), held_data_.end(),
                       [&](const std::string& id) { return w.ever_stored(id); });
  }
  std::map<uint64_t, uint64_t> checks_;  // check id -> epoch when it started
  std::set<std::string> ran_;            // tasks the core saw TASK_RUNNING of
  std::optional<std::string> pending_add_;
  std::optional<uint64_t> pending_remove_;
};

// A removal never takes a cluster that has quorum below it, judged by the
// cluster as the health check the decision rests on saw it: the core removes
// a member only on a fresh verdict, and cannot see a change after the check
// (a member frozen a moment later); etcd's strict reconfiguration check
// refuses such a removal then (shared/reference, section 8). Judging by the
// world at the moment of the effect failed about once in 10,000 seeds on
// that race alone, and far more once agents could be cut off from the master
// only (issue 9): a member Mesos calls lost keeps serving and is removed.
class QuorumSafeRemoval final : public Invariant {
 public:
  const char* name() const override { return "quorum-safe-removal"; }
  void before_event(const Event& ev, const World&) override {
    if (const auto* h = as<core::HealthChecked>(ev)) {
      if (auto it = seen_.find(h->check_id); it != seen_.end()) {
        basis_ = it->second;
        seen_.erase(seen_.begin(), std::next(it));
      }
    }
  }
  void on_scheduler_restart(const World&) override {
    seen_.clear();
    basis_.reset();
  }
  std::optional<std::string> on_effect(const Effect& effect, const World& w) override {
    if (const auto* check = as<core::CheckHealth>(effect)) {
      seen_[check->check_id] = snapshot(w);
      return std::nullopt;
    }
    const auto* rm = as<core::RemoveEtcdMember>(effect);
    if (rm == nullptr) {
      return std::nullopt;
    }
    const Snapshot now = snapshot(w);
    const Snapshot& judged = basis_ ? *basis_ : now;
    for (const auto& [token, c] : judged) {
      if (!c.voters.contains(rm->etcd_id) || c.connected.size() * 2 <= c.voters.size()) {
        continue;
      }
      const std::size_t connected =
          c.connected.size() - (c.connected.contains(rm->etcd_id) ? 1 : 0);
      const std::size_t size_after = c.voters.size() - 1;
      if (connected * 2 <= size_after) {
        return "removing " + name_of(w, rm->etcd_id) + " leaves " + std::to_string(connected) +
               " of " + std::to_string(size_after) + " members connected in cluster " + token +
               " (as the health check it rests on saw it)";
      }
    }
    return std::nullopt;
  }

 private:
  struct ClusterSeen {
    std::set<uint64_t> voters;
    std::set<uint64_t> connected;
  };
  using Snapshot = std::map<std::string, ClusterSeen>;

  static Snapshot snapshot(const World& w) {
    Snapshot out;
    for (const auto& c : w.clusters()) {
      auto& seen = out[c.token];
      for (const auto& v : c.voters) {
        seen.voters.insert(v.id);
        if (v.process >= 0 && w.processes()[v.process].cluster >= 0 &&
            &w.clusters()[w.processes()[v.process].cluster] == &c &&
            w.connected(w.processes()[v.process])) {
          seen.connected.insert(v.id);
        }
      }
    }
    return out;
  }
  static std::string name_of(const World& w, uint64_t id) {
    for (const auto& c : w.clusters()) {
      for (const auto& v : c.voters) {
        if (v.id == id) {
          return v.name.empty() ? std::string("an unstarted member") : v.name;
        }
      }
    }
    return "member " + std::to_string(id);
  }

  std::map<uint64_t, Snapshot> seen_;  // by check id, until answered
  std::optional<Snapshot> basis_;
};

// Never two clusters that could each accept writes (split brain). Counted
// are clusters the scheduler exposed (a member of it was running as far as
// the core knew) and that no operator gave up with an unlock: a member that
// bootstrapped on an agent partitioned before its TASK_RUNNING arrived holds
// a cluster nobody was ever told about, and the core kills it on sight.
class SingleLiveCluster final : public Invariant {
 public:
  const char* name() const override { return "single-live-cluster"; }
  void before_event(const Event& ev, const World& w) override {
    if (leaves_total_loss(ev)) {
      for (const auto& c : w.clusters()) {
        abandoned_.insert(c.token);
      }
    }
  }
  // Mesos killed every member of the removed framework.
  void on_framework_removed(const World& w) override {
    for (const auto& c : w.clusters()) {
      abandoned_.insert(c.token);
    }
  }
  std::optional<std::string> after_step(const World& w) override {
    std::vector<std::string> live;
    for (const auto& c : w.clusters()) {
      if (exposed(c, w)) {
        exposed_.insert(c.token);
      }
      if (w.has_quorum(c) && exposed_.contains(c.token) && !abandoned_.contains(c.token)) {
        live.push_back(c.token);
      }
    }
    if (live.size() > 1) {
      return "clusters " + live[0] + " and " + live[1] + " both have quorum";
    }
    return std::nullopt;
  }

 private:
  static bool exposed(const Cluster& c, const World& w) {
    return std::any_of(c.voters.begin(), c.voters.end(), [&](const Voter& v) {
      if (v.process < 0) {
        return false;
      }
      const core::Member* m = core_member(w, w.processes()[v.process].task_id);
      return m != nullptr && m->state == core::TaskState::kRunning;
    });
  }

  std::set<std::string> exposed_;
  std::set<std::string> abandoned_;
};

// While not subscribed the core's picture may be stale: no launch, kill,
// membership change or reseed order. One exception, documented in the core:
// a voter whose add is answered after the connection was lost never starts
// (its offer is void) and would count against the quorum, so it is removed
// again at once; that removal may go out while not subscribed.
class ImmutableWhileDisconnected final : public Invariant {
 public:
  const char* name() const override { return "immutable-while-disconnected"; }
  void before_event(const Event& ev, const World&) override {
    const auto* added = as<core::MemberAdded>(ev);
    just_added_ =
        added != nullptr && added->ok ? std::optional<uint64_t>(added->etcd_id) : std::nullopt;
  }
  void on_scheduler_restart(const World&) override { just_added_.reset(); }
  std::optional<std::string> on_effect(const Effect& effect, const World& w) override {
    if (w.subscribed()) {
      return std::nullopt;
    }
    if (const auto* rm = as<core::RemoveEtcdMember>(effect); rm && just_added_ == rm->etcd_id) {
      return std::nullopt;
    }
    if (as<core::LaunchMember>(effect) || as<core::KillTask>(effect) ||
        as<core::AddEtcdMember>(effect) || as<core::RemoveEtcdMember>(effect) ||
        as<core::ReseedOrder>(effect)) {
      return core::describe(effect) + " while not subscribed";
    }
    return std::nullopt;
  }

 private:
  std::optional<uint64_t> just_added_;
};

// A reseed throws away every member but the seed, so it starts (the status
// query) and orders a seed only while the newest health verdict the core has
// says the cluster lacks quorum. Verdicts can arrive out of order; the newest
// is the one from the check started last.
class NoReseedWhileHealthy final : public Invariant {
 public:
  const char* name() const override { return "no-reseed-while-healthy"; }
  void before_event(const Event& ev, const World&) override {
    if (const auto* h = as<core::HealthChecked>(ev); h && h->check_id >= newest_check_) {
      newest_check_ = h->check_id;
      newest_healthy_ = h->result.healthy;
    }
  }
  // A new core numbers its checks afresh and has judged none yet.
  void on_scheduler_restart(const World&) override {
    newest_check_ = 0;
    newest_healthy_ = false;
  }
  std::optional<std::string> on_effect(const Effect& effect, const World&) override {
    const auto* order = as<core::ReseedOrder>(effect);
    const bool seeds = order != nullptr && order->action == core::ReseedAction::kSeed;
    if ((seeds || as<core::QueryMemberStatus>(effect) != nullptr) && newest_healthy_) {
      return core::describe(effect) + " while the newest health check (" +
             std::to_string(newest_check_) + ") found the cluster healthy";
    }
    return std::nullopt;
  }

 private:
  uint64_t newest_check_ = 0;
  bool newest_healthy_ = false;
};

// Backups (issue 14): never two at once, and none started unless the newest
// health verdict the core has found the cluster healthy (a snapshot of a
// cluster without a working majority may hold a minority's stale data).
// Verdicts can arrive out of order; the newest is the one from the check
// started last.
class BackupOnlyWhenHealthy final : public Invariant {
 public:
  const char* name() const override { return "backup-only-when-healthy"; }
  void before_event(const Event& ev, const World&) override {
    if (const auto* h = as<core::HealthChecked>(ev); h && h->check_id >= newest_check_) {
      newest_check_ = h->check_id;
      newest_healthy_ = h->result.healthy;
    } else if (const auto* d = as<core::BackupDone>(ev); d && in_flight_ == d->id) {
      in_flight_.reset();
    }
  }
  // A new core numbers its checks and backups afresh; the old one's backup
  // died with it.
  void on_scheduler_restart(const World&) override {
    newest_check_ = 0;
    newest_healthy_ = false;
    in_flight_.reset();
  }
  std::optional<std::string> on_effect(const Effect& effect, const World&) override {
    const auto* b = as<core::TakeBackup>(effect);
    if (b == nullptr) {
      return std::nullopt;
    }
    if (in_flight_) {
      return "one-backup-at-a-time: " + core::describe(effect) + " while backup " +
             std::to_string(*in_flight_) + " is under way";
    }
    in_flight_ = b->id;
    if (!newest_healthy_) {
      return core::describe(effect) + " while the newest health check (" +
             std::to_string(newest_check_) + ") found the cluster unhealthy";
    }
    if (b->client_urls.empty()) {
      return core::describe(effect) + " names no member to take it from";
    }
    return std::nullopt;
  }

 private:
  uint64_t newest_check_ = 0;
  bool newest_healthy_ = false;
  std::optional<uint64_t> in_flight_;
};

// The seed of a reseed is the member with the highest raft index among those
// that answered the status query and are still running (a seed that failed
// is followed by the next best, as the checks since saw them): any other
// choice loses acknowledged writes.
class SeedHasHighestRaftIndex final : public Invariant {
 public:
  const char* name() const override { return "seed-has-highest-raft-index"; }
  void before_event(const Event& ev, const World& w) override {
    if (const auto* s = as<core::MemberStatuses>(ev)) {
      answers_.clear();
      tried_.clear();
      for (const auto& m : s->members) {
        if (m.reachable) {
          answers_[m.name] = m.raft_index;
        }
      }
    }
    // What a health check saw since counts too: members that found each
    // other again may have committed past the next candidate (seed 6304997).
    if (const auto* h = as<core::HealthChecked>(ev); h && !answers_.empty()) {
      for (const auto& m : h->result.members) {
        if (m.reachable && answers_.contains(m.name)) {
          answers_[m.name] = std::max(answers_[m.name], m.raft_index);
        }
      }
    }
    // And so does a fence's answer: the commit index of the data it stopped,
    // which is what the core ranks on (plain seed 90024455: a member behind
    // at the query caught up before its fence, and was rightly chosen).
    if (const auto* r = as<core::ReseedReport>(ev);
        r && r->ok && r->action == core::ReseedAction::kFence) {
      if (const core::Member* m = core_member(w, r->task_id);
          m != nullptr && answers_.contains(m->name)) {
        answers_[m->name] = std::max(answers_[m->name], r->raft_index);
      }
    }
  }
  void on_scheduler_restart(const World&) override {
    answers_.clear();
    tried_.clear();
  }
  std::optional<std::string> on_effect(const Effect& effect, const World& w) override {
    const auto* order = as<core::ReseedOrder>(effect);
    if (order == nullptr || order->action != core::ReseedAction::kSeed) {
      return std::nullopt;
    }
    tried_.insert(order->task_id);
    const core::Member* seed = core_member(w, order->task_id);
    if (seed == nullptr || !answers_.contains(seed->name)) {
      return "seed " + order->task_id + " did not answer the status query";
    }
    const uint64_t index = answers_.at(seed->name);
    for (const auto& m : w.core().members()) {
      auto it = answers_.find(m.name);
      if (m.state != core::TaskState::kRunning || tried_.contains(m.task_id) ||
          it == answers_.end() || it->second <= index) {
        continue;
      }
      return "seed " + seed->name + " has raft index " + std::to_string(index) + ", but " + m.name +
             " answered " + std::to_string(it->second);
    }
    return std::nullopt;
  }

 private:
  std::map<std::string, uint64_t> answers_;  // member name -> raft index
  std::set<std::string> tried_;              // seeds ordered since the query
};

// etcd starts with --force-new-cluster only on a seed order, once per order:
// a forced start without one forks a one-member cluster out of a cluster
// that may still serve (issue 11: the executor core's rule that restarts
// after the seed's start go without the flag).
class ForcedOnlyOnASeedOrder final : public Invariant {
 public:
  const char* name() const override { return "forced-start-only-on-a-seed-order"; }
  std::optional<std::string> on_effect(const Effect& effect, const World&) override {
    if (const auto* order = as<core::ReseedOrder>(effect);
        order && order->action == core::ReseedAction::kSeed) {
      ++orders_[order->task_id];
    }
    return std::nullopt;
  }
  std::optional<std::string> after_step(const World& w) override {
    for (const auto& t : w.tasks()) {
      const uint64_t forced = w.forced_starts(t.id);
      const auto it = orders_.find(t.id);
      const uint64_t orders = it == orders_.end() ? 0 : it->second;
      if (forced > orders) {
        return "task " + t.id + " started etcd with --force-new-cluster " + std::to_string(forced) +
               " time(s) on " + std::to_string(orders) + " seed order(s)";
      }
    }
    return std::nullopt;
  }

 private:
  std::map<std::string, uint64_t> orders_;  // task id -> seed orders sent
};

// No old member is stopped before a health check that started after the seed
// reported serving has found the seed healthy: until then the old members'
// data is the only copy that is known to work. A member the core had already
// given up as lost (its agent was removed) and that shows up again is killed
// like any unknown task; that is not counted.
class NoOldMemberStoppedEarly final : public Invariant {
 public:
  const char* name() const override { return "no-old-member-stopped-before-seed-healthy"; }
  void before_event(const Event& ev, const World&) override {
    if (const auto* r = as<core::ReseedReport>(ev);
        r && seed_ && r->task_id == *seed_ && r->action == core::ReseedAction::kSeed && r->ok) {
      seed_reported_ = true;
    } else if (const auto* h = as<core::HealthChecked>(ev);
               h && h->result.healthy && fresh_checks_.contains(h->check_id)) {
      seed_healthy_ = true;
    }
  }
  std::optional<std::string> on_effect(const Effect& effect, const World& w) override {
    if (const auto* order = as<core::ReseedOrder>(effect);
        order && order->action == core::ReseedAction::kSeed) {
      seed_ = order->task_id;
      old_.clear();
      for (const auto& m : w.core().members()) {
        if (m.task_id != order->task_id) {
          old_.insert(m.task_id);
        }
      }
      seed_reported_ = false;
      seed_healthy_ = false;
      fresh_checks_.clear();
    } else if (const auto* c = as<core::CheckHealth>(effect); c && seed_reported_) {
      fresh_checks_.insert(c->check_id);
    } else if (const auto* k = as<core::KillTask>(effect);
               k && seed_ && old_.contains(k->task_id) && tracked_.contains(k->task_id) &&
               !seed_healthy_) {
      return "kill of old member task " + k->task_id + " before a health check of seed " + *seed_ +
             (seed_reported_ ? " passed" : " started (the seed has not reported)");
    }
    return std::nullopt;
  }
  // The new core knows nothing of the dead one's reseed (and numbers its
  // checks afresh): a reseed it starts is judged from its own order on.
  void on_scheduler_restart(const World&) override {
    seed_.reset();
    old_.clear();
    seed_reported_ = false;
    seed_healthy_ = false;
    fresh_checks_.clear();
    tracked_.clear();
  }
  std::optional<std::string> after_step(const World& w) override {
    if (seed_ && !w.core().reseeding()) {
      seed_.reset();  // done or given up: the next reseed starts afresh
      old_.clear();
    }
    tracked_.clear();  // for the next step (event or tick)
    for (const auto& m : w.core().members()) {
      tracked_.insert(m.task_id);
    }
    return std::nullopt;
  }

 private:
  std::optional<std::string> seed_;  // the current seed's task id
  std::set<std::string> old_;        // every other member when it was ordered
  bool seed_reported_ = false;
  bool seed_healthy_ = false;
  std::set<uint64_t> fresh_checks_;  // checks started after the seed's report
  std::set<std::string> tracked_;    // the core's members before the current step
};

}  // namespace

// The size an operator set (POST /cluster-size) and that was written to the
// store is the size a restarted or standby scheduler keeps.
class ResizeSurvivesRestart final : public Invariant {
 public:
  const char* name() const override { return "resize-survives-restart"; }
  void before_event(const Event& event, const World&) override {
    recovered_ = std::nullopt;
    if (const auto* r = std::get_if<core::Recovered>(&event); r && r->cluster_size) {
      recovered_ = *r->cluster_size;
    }
  }
  std::optional<std::string> after_step(const World& w) override {
    if (recovered_ && w.core().cluster_size() != *recovered_) {
      return "recovered cluster size " + std::to_string(*recovered_) + " but the core keeps " +
             std::to_string(w.core().cluster_size());
    }
    return std::nullopt;
  }

 private:
  std::optional<std::size_t> recovered_;
};

// A shrink kills a member only after etcd removed it: a running member the
// core had while it was above its size is killed only once no cluster with a
// quorum lists it (strangers and members that came back are other rules'
// kills).
class ShrinkRemovesBeforeKilling final : public Invariant {
 public:
  const char* name() const override { return "shrink-removes-before-killing"; }
  void before_event(const Event&, const World& w) override {
    members_.clear();
    shrinking_ = w.core().members().size() > w.core().cluster_size() && !w.core().reseeding();
    for (const auto& m : w.core().members()) {
      // A shrink takes only running members (a launch that timed out is
      // killed by another rule, and etcd's removal follows).
      if (m.state == core::TaskState::kRunning) {
        members_.insert(m.task_id);
      }
    }
  }
  std::optional<std::string> on_effect(const core::Effect& effect, const World& w) override {
    const auto* kill = std::get_if<core::KillTask>(&effect);
    if (kill == nullptr || !shrinking_ || !members_.contains(kill->task_id)) {
      return std::nullopt;
    }
    for (const auto& c : w.clusters()) {
      if (!w.has_quorum(c)) {
        continue;
      }
      for (const auto& v : c.voters) {
        if (v.process >= 0 && w.processes()[v.process].task_id == kill->task_id &&
            w.processes()[v.process].state == Process::State::kRunning) {
          return "killed " + kill->task_id + " (" + v.name + "), a voter of cluster " + c.token +
                 " that has a quorum, while shrinking, without removing it from etcd first";
        }
      }
    }
    return std::nullopt;
  }

 private:
  bool shrinking_ = false;
  std::set<std::string> members_;
};

// Persist mode: no member is launched or added to etcd before the store
// confirmed the framework ID (to this scheduler process, or it loaded it at
// start), nor while the store is known to be down; the store really holds
// the ID of the framework the core is subscribed as; and a member is
// launched only once the store holds its record.
class NothingBeforeFrameworkIdPersisted : public Invariant {
 public:
  const char* name() const override { return "nothing-before-framework-id-persisted"; }
  void before_event(const core::Event& event, const World&) override {
    if (const auto* p = std::get_if<core::FrameworkIdPersisted>(&event); p && p->ok) {
      persisted_ = true;
    }
    if (const auto* r = std::get_if<core::Recovered>(&event); r && !r->framework_id.empty()) {
      persisted_ = true;
    }
  }
  // A new process: it learns only from its own answers and what it loaded.
  void on_scheduler_restart(const World&) override { persisted_ = false; }
  std::optional<std::string> on_effect(const core::Effect& effect, const World& w) override {
    const bool acts = std::holds_alternative<core::LaunchMember>(effect) ||
                      std::holds_alternative<core::AddEtcdMember>(effect);
    if (!acts) {
      return std::nullopt;
    }
    if (!persisted_) {
      return core::describe(effect) + " before the framework ID was persisted";
    }
    if (w.stored_framework_id() != w.core().framework_id()) {
      return core::describe(effect) + " while the store holds framework ID '" +
             w.stored_framework_id() + "', not '" + w.core().framework_id() + "'";
    }
    if (!w.leads_in_zookeeper()) {
      return core::describe(effect) + " while the ZooKeeper store is down or another may lead";
    }
    // A restarted scheduler must know every task that may run: the record
    // comes before the launch (persist seed 315612).
    if (const auto* l = std::get_if<core::LaunchMember>(&effect);
        l && !w.ever_stored(l->spec.member.task_id)) {
      return core::describe(effect) + " before its record was written";
    }
    return std::nullopt;
  }

 private:
  bool persisted_ = false;
};

// Persist mode, the leadership rule (issue 11): a scheduler process writes
// to the store only while it leads in ZooKeeper, and once its session
// expired it never subscribes to Mesos again until it is elected in a new
// session (a subscription would take the framework from a standby that
// leads now).
class OnlyTheLeaderWritesOrSubscribes : public Invariant {
 public:
  const char* name() const override { return "only-the-leader-writes-or-subscribes"; }
  void before_event(const core::Event& event, const World& w) override {
    if (std::holds_alternative<core::Subscribed>(event) && !w.elected()) {
      violation_ =
          "subscribed to Mesos after its ZooKeeper session expired, before it was "
          "elected again";
    }
  }
  std::optional<std::string> on_effect(const core::Effect& effect, const World& w) override {
    const bool writes = std::holds_alternative<core::PersistFrameworkId>(effect) ||
                        std::holds_alternative<core::PersistClusterSize>(effect) ||
                        std::holds_alternative<core::PersistTask>(effect) ||
                        std::holds_alternative<core::ForgetTask>(effect) ||
                        std::holds_alternative<core::ClearStore>(effect);
    if (writes && !w.leads_in_zookeeper()) {
      return core::describe(effect) + " while this scheduler does not lead in ZooKeeper";
    }
    return std::nullopt;
  }
  std::optional<std::string> after_step(const World&) override {
    return std::exchange(violation_, std::nullopt);
  }

 private:
  std::optional<std::string> violation_;
};

// Issue 9. Whether an operator forced the reseed under way past silent
// members (POST /reseed?skip-silent=true): the invariants below then accept
// what the operator accepted.
class ForcedReseed {
 public:
  void before_event(const Event& ev) {
    if (const auto* r = as<core::OperatorReseed>(ev)) {
      pending_ = r->skip_silent;
    }
  }
  void on_effect(const Effect& effect) {
    if (as<core::QueryMemberStatus>(effect) != nullptr) {
      forced_ = pending_;
      pending_ = false;
    }
  }
  void reset() { pending_ = forced_ = false; }
  bool forced() const { return forced_; }

 private:
  bool pending_ = false;
  bool forced_ = false;
};

// No reseed while a majority of the seed's cluster can commit and the
// scheduler can see it: a voter connected to that majority is a member the
// core lists as running. Judged by the cluster as the last answered health
// check saw it (the core cannot know of a change after that). A majority
// made only of members the core was told are lost (cut off from the master
// and the scheduler alike) is the risk -reseed-timeout exists for
// (docs/incident-response.md, "Partitions"), not counted here.
class NoReseedWhileMajorityCommits final : public Invariant {
 public:
  const char* name() const override { return "no-reseed-while-majority-commits"; }
  void before_event(const Event& ev, const World&) override {
    forced_.before_event(ev);
    if (const auto* h = as<core::HealthChecked>(ev)) {
      if (auto it = seen_.find(h->check_id); it != seen_.end()) {
        basis_ = it->second;
        basis_check_ = h->check_id;
        seen_.erase(seen_.begin(), std::next(it));
      }
    }
  }
  void on_scheduler_restart(const World&) override {
    seen_.clear();
    basis_.clear();
    forced_.reset();
  }
  std::optional<std::string> on_effect(const Effect& effect, const World& w) override {
    forced_.on_effect(effect);
    if (as<core::CheckHealth>(effect) != nullptr) {
      seen_[as<core::CheckHealth>(effect)->check_id] = committing(w);
      return std::nullopt;
    }
    const auto* order = as<core::ReseedOrder>(effect);
    if (order == nullptr || order->action != core::ReseedAction::kSeed || forced_.forced()) {
      return std::nullopt;
    }
    const Task* t = w.task(order->task_id);
    if (t == nullptr || t->process < 0 || w.processes()[t->process].cluster < 0) {
      return std::nullopt;
    }
    const std::string& token = w.clusters()[w.processes()[t->process].cluster].token;
    if (basis_.contains(token)) {
      return "seed order to " + order->task_id + " while its cluster " + token +
             " could commit with members the core lists as running (health check " +
             std::to_string(basis_check_) + ")";
    }
    return std::nullopt;
  }

 private:
  static std::set<std::string> committing(const World& w) {
    std::set<std::string> out;
    for (const auto& c : w.clusters()) {
      if (!w.has_quorum(c)) {
        continue;
      }
      for (const auto& v : c.voters) {
        if (v.process < 0) {
          continue;
        }
        const Process& p = w.processes()[v.process];
        const core::Member* m = core_member(w, p.task_id);
        if (p.cluster >= 0 && &w.clusters()[p.cluster] == &c && w.connected(p) && m != nullptr &&
            m->state == core::TaskState::kRunning) {
          out.insert(c.token);
          break;
        }
      }
    }
    return out;
  }

  ForcedReseed forced_;
  std::map<uint64_t, std::set<std::string>> seen_;  // by check id, until answered
  std::set<std::string> basis_;
  uint64_t basis_check_ = 0;
};

// No acknowledged write is lost while a majority of the old members runs:
// every committed entry (client writes, probes, membership changes) is on
// the member with the highest commit index, and the seed must hold as much
// as every member of its cluster that Mesos reports running and the core
// knows (the core cannot rank what it was told is lost). And, as
// `retired-members-hold-no-newer-writes`, no old member retired after the
// seed holds a higher commit index than the seed had: an old majority that
// re-formed while the seed was chosen or restarted would have committed
// writes the seed lacks (persist seed 3015469, closed by fencing every
// member before the seed is chosen; docs/testing.md).
class AcknowledgedWritesKept final : public Invariant {
 public:
  explicit AcknowledgedWritesKept(bool retired) : retired_(retired) {}
  const char* name() const override {
    return retired_ ? "retired-members-hold-no-newer-writes" : "acknowledged-writes-kept";
  }
  void before_event(const Event& ev, const World& w) override {
    forced_.before_event(ev);
    if (const auto* r = as<core::ReseedReport>(ev); r && seed_ && r->task_id == seed_->task &&
                                                    r->action == core::ReseedAction::kSeed &&
                                                    !r->ok && r->data_untouched) {
      // The seed never forked (its copy was refused): its cluster goes on,
      // and later kills in it are no retirements (found by scarce-agent seed
      // 24117652 once the invariant was on).
      seed_.reset();
    }
    members_.clear();
    for (const auto& m : w.core().members()) {
      members_.insert(m.task_id);
    }
  }
  void on_scheduler_restart(const World&) override {
    forced_.reset();
    seed_.reset();
  }
  std::optional<std::string> on_effect(const Effect& effect, const World& w) override {
    forced_.on_effect(effect);
    if (forced_.forced()) {
      return std::nullopt;
    }
    if (const auto* order = as<core::ReseedOrder>(effect);
        order && order->action == core::ReseedAction::kSeed) {
      auto violation = check_seed(*order, w);
      return retired_ ? std::nullopt : violation;
    }
    if (const auto* kill = as<core::KillTask>(effect); retired_ && kill && seed_ &&
                                                       kill->task_id != seed_->task &&
                                                       members_.contains(kill->task_id)) {
      const Task* t = w.task(kill->task_id);
      if (t != nullptr && t->process >= 0) {
        const Process& p = w.processes()[t->process];
        // A process that has already exited loses nothing to the kill (found
        // by five-member persist seed 23289400: a restarted core reused a
        // failed member's task id, and the kill of the new launch was judged
        // against the old, exited process).
        if (p.state != Process::State::kExited && p.cluster >= 0 &&
            w.clusters()[p.cluster].token == seed_->cluster && p.raft_index > seed_->index) {
          return "killing " + p.name + " (raft index " + std::to_string(p.raft_index) +
                 ") of the cluster that seed " + seed_->task + " left at raft index " +
                 std::to_string(seed_->index);
        }
      }
    }
    return std::nullopt;
  }

 private:
  struct Seed {
    std::string task;
    std::string cluster;  // the old cluster's token
    uint64_t index = 0;
  };

  std::optional<std::string> check_seed(const core::ReseedOrder& order, const World& w) {
    const Task* t = w.task(order.task_id);
    if (t == nullptr || t->process < 0 || w.processes()[t->process].cluster < 0) {
      return std::nullopt;
    }
    const Process& seed = w.processes()[t->process];
    const Cluster& c = w.clusters()[seed.cluster];
    seed_ = Seed{order.task_id, c.token, seed.raft_index};
    std::size_t running = 0;
    const Process* best = &seed;
    for (const auto& v : c.voters) {
      if (v.process < 0) {
        continue;
      }
      const Process& p = w.processes()[v.process];
      const Task* pt = w.task(p.task_id);
      if (pt == nullptr || !w.mesos_reports_running(*pt) || !members_.contains(p.task_id)) {
        continue;
      }
      ++running;
      if (p.raft_index > best->raft_index) {
        best = &p;
      }
    }
    if (running * 2 > c.voters.size() && best != &seed) {
      return "seed " + seed.name + " holds raft index " + std::to_string(seed.raft_index) +
             ", but " + best->name + ", which Mesos reports running, holds " +
             std::to_string(best->raft_index) + " (a majority of " + c.token + " runs)";
    }
    return std::nullopt;
  }

  bool retired_ = false;
  ForcedReseed forced_;
  std::set<std::string> members_;  // task ids the core knew before the step
  std::optional<Seed> seed_;
};

// Never locked after a total loss while a member that holds the cluster's
// data runs as far as Mesos knows (issue 9, case 4: a joining member's
// TASK_RUNNING arrived after the older members' failures, across a master
// restart, and the core locked while it ran). Counted are tasks the core
// launched (or recovered), never killed and never heard were lost, whose
// etcd holds data of an exposed cluster. TASK_UNKNOWN is no such news: a new
// master with an in-memory registry answers it for every task of an agent
// that has not re-registered yet (on real Mesos 1.12 the core locked and
// killed three running members on it).
class NeverLockedWhileDataRuns final : public Invariant {
 public:
  const char* name() const override { return "never-locked-while-data-runs"; }
  void before_event(const Event& ev, const World& w) override {
    if (const auto* r = as<core::Recovered>(ev)) {
      for (const auto& m : r->members) {
        launched_.insert(m.task_id);
      }
    } else if (const auto* s = as<core::StatusUpdate>(ev); s && tells_member_lost(s->state)) {
      gone_.insert(s->task_id);
    } else if (s && excuses_giving_up(*s, w)) {
      // TASK_UNKNOWN about an agent the master lost track of: news of a
      // loss once the core gives the member up on it (its grace ran out;
      // found by persist seed 1000640, where the agent came back later
      // and a failed restore locked the core again while the member ran).
      unknown_.insert(s->task_id);
    } else if (const auto* lost = as<core::AgentLost>(ev)) {
      for (const auto& m : w_members_) {
        if (m.second == lost->agent_id) {
          gone_.insert(m.first);
        }
      }
    }
  }
  void on_scheduler_restart(const World&) override { was_locked_ = false; }
  std::optional<std::string> on_effect(const Effect& effect, const World&) override {
    if (const auto* l = as<core::LaunchMember>(effect)) {
      launched_.insert(l->spec.member.task_id);
      w_members_[l->spec.member.task_id] = l->spec.member.agent_id;
    } else if (const auto* k = as<core::KillTask>(effect)) {
      gone_.insert(k->task_id);
    }
    return std::nullopt;
  }
  std::optional<std::string> after_step(const World& w) override {
    for (const auto& task_id : unknown_) {
      if (core_member(w, task_id) == nullptr) {
        gone_.insert(task_id);
      }
    }
    unknown_.clear();
    const bool locked = w.core().total_loss();
    const bool newly = locked && !was_locked_;
    was_locked_ = locked;
    if (!newly) {
      return std::nullopt;
    }
    for (const auto& t : w.tasks()) {
      if (!launched_.contains(t.id) || gone_.contains(t.id) || !w.mesos_reports_running(t) ||
          t.process < 0) {
        continue;
      }
      const Process& p = w.processes()[t.process];
      if (p.state != Process::State::kExited && p.cluster >= 0 && p.raft_index > 0) {
        return "locked as after a total loss while " + p.name + " (task " + t.id + ", raft index " +
               std::to_string(p.raft_index) + ") runs";
      }
    }
    return std::nullopt;
  }

 private:
  std::set<std::string> launched_;
  std::set<std::string> gone_;
  std::set<std::string> unknown_;                 // excusing TASK_UNKNOWNs of this step
  std::map<std::string, std::string> w_members_;  // task id -> agent id
  bool was_locked_ = false;
};

// A member the core lists as running is given up only for a reason: an
// update that tells it is lost (excuses_giving_up: TASK_UNKNOWN only once
// the master lost track of its agent), its agent's loss, a kill the core
// sends in the same step (a retirement, a reseed's end), a shrink's removal
// from etcd, an operator's unlock or restore, or the framework's end. On real
// Mesos 1.12 the core replaced a healthy member on a TASK_UNKNOWN that only
// said its agent had not re-registered with a new master yet.
class RunningMembersGivenUpOnlyOnNews final : public Invariant {
 public:
  const char* name() const override { return "running-members-given-up-only-on-news"; }
  void before_event(const Event& ev, const World& w) override {
    if (const auto* s = as<core::StatusUpdate>(ev); s && excuses_giving_up(*s, w)) {
      excused_.insert(s->task_id);
    } else if (const auto* l = as<core::AgentLost>(ev)) {
      for (const auto& [task_id, agent_id] : running_) {
        if (agent_id == l->agent_id) {
          excused_.insert(task_id);
        }
      }
    } else if (as<core::MemberRemoved>(ev) != nullptr || leaves_total_loss(ev) ||
               as<core::FrameworkError>(ev) != nullptr) {
      any_excused_ = true;
    }
  }
  std::optional<std::string> on_effect(const Effect& effect, const World&) override {
    if (const auto* k = as<core::KillTask>(effect)) {
      excused_.insert(k->task_id);
    }
    return std::nullopt;
  }
  void on_scheduler_restart(const World&) override { running_.clear(); }
  void on_framework_removed(const World&) override { running_.clear(); }
  std::optional<std::string> after_step(const World& w) override {
    std::optional<std::string> violation;
    for (const auto& [task_id, agent_id] : running_) {
      if (core_member(w, task_id) == nullptr && !excused_.contains(task_id) && !any_excused_) {
        violation = "gave up running member task " + task_id + " on agent " + agent_id +
                    " without news of its loss";
        break;
      }
    }
    excused_.clear();
    any_excused_ = false;
    running_.clear();
    for (const auto& m : w.core().members()) {
      if (m.state == core::TaskState::kRunning) {
        running_[m.task_id] = m.agent_id;
      }
    }
    return violation;
  }

 private:
  std::map<std::string, std::string> running_;  // task id -> agent id, before this step
  std::set<std::string> excused_;               // task ids this step may give up
  bool any_excused_ = false;                    // this step may give up any member
};

// The counters GET /metrics exports (core::Counters) are counters for
// Prometheus: they never go back within one scheduler process, their labels
// are from the fixed lists, every ended check is in one duration bucket,
// and no more launches end, or replace a member, than were sent.
class CountersConsistent final : public Invariant {
 public:
  const char* name() const override { return "counters-consistent"; }
  void on_scheduler_restart(const World&) override { last_.reset(); }
  std::optional<std::string> after_step(const World& w) override {
    const auto& c = w.core().counters();
    const auto& stats = w.core().stats();
    if (auto why = labels_known(c)) {
      return why;
    }
    uint64_t buckets = 0;
    for (auto n : c.check_buckets) {
      buckets += n;
    }
    if (buckets != c.health_checks) {
      return std::to_string(buckets) + " check durations for " + std::to_string(c.health_checks) +
             " checks";
    }
    const uint64_t ended =
        at(c.launches, "running") + at(c.launches, "failed") + at(c.launches, "timed_out");
    if (ended > stats.launched_servers || c.replacements > stats.launched_servers) {
      return std::to_string(ended) + " launches ended and " + std::to_string(c.replacements) +
             " replacements of " + std::to_string(stats.launched_servers) + " launched";
    }
    if (c.offers_declined > c.offers_received) {
      return std::to_string(c.offers_declined) + " offers declined of " +
             std::to_string(c.offers_received) + " received";
    }
    if (last_ && went_back(*last_, c)) {
      return std::string("a counter went back");
    }
    last_ = c;
    return std::nullopt;
  }

 private:
  static uint64_t at(const std::map<std::string, uint64_t>& m, const std::string& key) {
    auto it = m.find(key);
    return it == m.end() ? 0 : it->second;
  }
  template <std::size_t N>
  static std::optional<std::string> unknown_key(const std::map<std::string, uint64_t>& m,
                                                const std::array<const char*, N>& values) {
    for (const auto& [key, n] : m) {
      if (std::none_of(values.begin(), values.end(), [&](const char* v) { return key == v; })) {
        return "label value '" + key + "' is not in the fixed list";
      }
    }
    return std::nullopt;
  }
  static std::optional<std::string> labels_known(const core::Counters& c) {
    if (auto why = unknown_key(c.launches, core::kLaunchResults)) {
      return why;
    }
    if (auto why = unknown_key(c.reseeds, core::kReseedOutcomes)) {
      return why;
    }
    if (auto why = unknown_key(c.health_failures, core::kHealthFailureClasses)) {
      return why;
    }
    return unknown_key(c.persistence_errors, core::kPersistWrites);
  }
  static bool map_went_back(const std::map<std::string, uint64_t>& before,
                            const std::map<std::string, uint64_t>& after) {
    return std::any_of(before.begin(), before.end(),
                       [&](const auto& entry) { return at(after, entry.first) < entry.second; });
  }
  static bool went_back(const core::Counters& b, const core::Counters& a) {
    for (std::size_t i = 0; i < b.check_buckets.size(); ++i) {
      if (a.check_buckets[i] < b.check_buckets[i]) {
        return true;
      }
    }
    return a.offers_received < b.offers_received || a.offers_declined < b.offers_declined ||
           a.replacements < b.replacements || a.health_checks < b.health_checks ||
           a.check_duration_sum < b.check_duration_sum || map_went_back(b.launches, a.launches) ||
           map_went_back(b.reseeds, a.reseeds) ||
           map_went_back(b.health_failures, a.health_failures) ||
           map_went_back(b.persistence_errors, a.persistence_errors);
  }

  std::optional<core::Counters> last_;
};

// Restores (issue 14). A restoring member is launched alone into a cluster
// of its own; while it may hold the snapshot's data (launched, and neither
// reported lost nor given up by an operator) no other new cluster is
// bootstrapped; and once it ended before it ran, the core is locked after a
// total loss at the end of that step and launches nothing in it.
class RestoreAlone final : public Invariant {
 public:
  const char* name() const override { return "restore-alone"; }
  void before_event(const Event& ev, const World& w) override {
    failed_now_.clear();
    if (leaves_total_loss(ev)) {
      restoring_.clear();
      return;
    }
    std::vector<std::string> gone;
    if (const auto* s = as<core::StatusUpdate>(ev)) {
      if (s->state == core::TaskState::kRunning) {
        ran_.insert(s->task_id);
      } else if (tells_member_lost(s->state)) {
        gone.push_back(s->task_id);
      }
    } else if (const auto* l = as<core::AgentLost>(ev)) {
      for (const auto& [task_id, agent_id] : restoring_) {
        if (agent_id == l->agent_id) {
          gone.push_back(task_id);
        }
      }
    }
    for (const auto& task_id : gone) {
      if (restoring_.contains(task_id) && !ran_.contains(task_id) &&
          launched_here_.contains(task_id) && core_member(w, task_id) != nullptr) {
        failed_now_ = task_id;
      }
    }
  }
  // A restarted core knows a restoring member only by its record, like any
  // launch, and locks once Mesos answered about every recovered record that
  // may hold data, which can be a step later than the restoring member's end
  // (persist seed 14736: the lost members' records were answered after it).
  // Until an operator gives it up, no new cluster is bootstrapped (below).
  void on_scheduler_restart(const World&) override { launched_here_.clear(); }
  std::optional<std::string> on_effect(const Effect& effect, const World&) override {
    const auto* launch = as<core::LaunchMember>(effect);
    if (launch == nullptr) {
      return std::nullopt;
    }
    const auto& spec = launch->spec;
    if (!failed_now_.empty()) {
      return "launch of " + spec.member.name + " in the step where restoring task " + failed_now_ +
             " ended before it ran";
    }
    if (spec.cluster_state == "new" && !restoring_.empty()) {
      // Failed before it ran or not, only an operator gives a restored
      // cluster up: it may hold the snapshot's data (and after it ran, the
      // cluster's).
      return "bootstrap of " + spec.member.name + " while restoring task " +
             restoring_.begin()->first + " may hold the snapshot's data";
    }
    if (!spec.restore_uri.empty()) {
      if (spec.cluster_state != "new" ||
          spec.initial_cluster != spec.member.name + "=" + spec.member.peer_url()) {
        return "restoring member " + spec.member.name + " launched with state " +
               spec.cluster_state + " and initial cluster " + spec.initial_cluster +
               " (it must start alone)";
      }
      restoring_[spec.member.task_id] = spec.member.agent_id;
      launched_here_.insert(spec.member.task_id);
    }
    return std::nullopt;
  }
  // Mesos killed every member of the removed framework.
  void on_framework_removed(const World&) override { restoring_.clear(); }
  std::optional<std::string> after_step(const World& w) override {
    if (failed_now_.empty()) {
      return std::nullopt;
    }
    const std::string task_id = failed_now_;
    failed_now_.clear();
    if (!w.core().total_loss()) {
      return "restoring task " + task_id + " ended before it ran, and the core is not locked (" +
             w.core().plan_reason() + ")";
    }
    return std::nullopt;
  }

 private:
  std::map<std::string, std::string> restoring_;  // task id -> agent id, until given up
  std::set<std::string> ran_;
  std::set<std::string> launched_here_;  // restoring tasks the current core launched
  std::string failed_now_;               // a restoring task that ended before it ran, in this step
};

std::vector<std::unique_ptr<Invariant>> default_invariants(bool pending, bool persist) {
  std::vector<std::unique_ptr<Invariant>> list;
  list.push_back(std::make_unique<MembershipBound>());
  list.push_back(std::make_unique<OneChangeAtATime>());
  list.push_back(std::make_unique<BootstrapWhole>());
  list.push_back(std::make_unique<GrowOnlyWhenFreshlyHealthy>());
  list.push_back(std::make_unique<QuorumSafeRemoval>());
  list.push_back(std::make_unique<SingleLiveCluster>());
  list.push_back(std::make_unique<ImmutableWhileDisconnected>());
  list.push_back(std::make_unique<SeedHasHighestRaftIndex>());
  list.push_back(std::make_unique<NoOldMemberStoppedEarly>());
  list.push_back(std::make_unique<ForcedOnlyOnASeedOrder>());
  list.push_back(std::make_unique<NoReseedWhileHealthy>());
  list.push_back(std::make_unique<NoReseedWhileMajorityCommits>());
  list.push_back(std::make_unique<AcknowledgedWritesKept>(false));
  list.push_back(std::make_unique<AcknowledgedWritesKept>(true));
  list.push_back(std::make_unique<NeverLockedWhileDataRuns>());
  list.push_back(std::make_unique<RunningMembersGivenUpOnlyOnNews>());
  list.push_back(std::make_unique<ShrinkRemovesBeforeKilling>());
  list.push_back(std::make_unique<CountersConsistent>());
  list.push_back(std::make_unique<RestoreAlone>());
  list.push_back(std::make_unique<BackupOnlyWhenHealthy>());
  if (persist) {
    list.push_back(std::make_unique<NothingBeforeFrameworkIdPersisted>());
    list.push_back(std::make_unique<ResizeSurvivesRestart>());
    list.push_back(std::make_unique<OnlyTheLeaderWritesOrSubscribes>());
  }
  // With `pending`, the invariants the core does not keep yet (docs/testing.md
  // names the seeds): none at present.
  static_cast<void>(pending);
  return list;
}

}  // namespace etcdmesos::sim
