// Persistence and reconciliation (persist mode, Config::persist): what is
// written to the store and when, what the store's answers change, and the
// reconcile gate that keeps the core immutable after every subscription
// until Mesos has answered about every member it knows.
//
// Why the framework ID comes first: a member launched under a framework ID
// that was never persisted is lost to a restarted scheduler, which would
// register as a new framework and launch a second cluster beside it.
#include "core/scheduler_core.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

namespace etcdmesos::core {

bool SchedulerCore::can_persist() const {
  if (!config_.persist) {
    return true;
  }
  if (!store_writable() || framework_id_.empty() || persisted_framework_id_ != framework_id_) {
    return false;
  }
  return std::none_of(task_writes_.begin(), task_writes_.end(),
                      [](const auto& entry) { return entry.second.failed; });
}

std::string SchedulerCore::persist_status() const {
  if (!config_.persist) {
    return "off";
  }
  if (session_may_be_gone(last_now_)) {
    return "ZooKeeper session expired or may have: leading while the Mesos subscription lasts, "
           "not subscribing again and launching nothing new until elected again";
  }
  if (!store_writable()) {
    return zk_session_ == ZkSession::kConnected
               ? "waiting to be elected again: launching nothing new until then"
               : "ZooKeeper unreachable: launching nothing new until it returns";
  }
  if (framework_id_.empty()) {
    return "waiting for the master to assign a framework id";
  }
  if (persisted_framework_id_ != framework_id_) {
    return "persisting framework id " + framework_id_;
  }
  const auto failed = std::count_if(task_writes_.begin(), task_writes_.end(),
                                    [](const auto& entry) { return entry.second.failed; });
  if (failed > 0) {
    return std::to_string(failed) + " task record write(s) failed, retrying";
  }
  return "ok";
}

void SchedulerCore::on(const Recovered& e, Millis, Effects& out) {
  if (!e.framework_id_unreadable.empty()) {
    // Registering as a new framework would start a second cluster beside
    // the one still running under the lost ID.
    exit_scheduler("the persisted framework ID is unreadable (" + e.framework_id_unreadable +
                       "): fix or delete it (deleting it makes the next scheduler start a new "
                       "framework and a new, empty etcd cluster)",
                   out);
    return;
  }
  persisted_framework_id_ = e.framework_id;
  if (e.cluster_size && valid_cluster_size(*e.cluster_size)) {
    apply_cluster_size(*e.cluster_size);
  }
  if (!e.members.empty() && restore_) {
    // -restore-from is for a scheduler that knows no cluster: once tasks are
    // recorded, restoring would bootstrap over the cluster they hold (or,
    // locked after a loss, the operator decides with POST /restore).
    last_restore_outcome_ = "not restored from " + restore_->uri +
                            ": the store records tasks of a cluster already bootstrapped";
    restore_.reset();
  }
  for (const auto& m : e.members) {
    if (m.task_id.empty() || find_member(m.task_id) != nullptr) {
      continue;
    }
    // A record is written before the launch and again at TASK_RUNNING; one
    // not yet running is a launch (its deadline starts on Subscribed). The
    // reconcile gate holds every decision until Mesos confirms or denies it.
    // Lost, it is failed like a member that ran (fail_member): the dead
    // scheduler may have seen it run without recording that.
    const bool ran = m.state == TaskState::kRunning;
    members_.push_back(m);
    members_.back().tls = config_.tls;
    agents_known_.insert(m.agent_id);
    if (!ran) {
      members_.back().state = TaskState::kStaging;
    }
    tracked_[m.task_id] = Tracked{Millis{0}, ran, !ran};
    // A launch into the existing cluster may hold the data even while Mesos
    // says it is still starting (found by the simulator, persist seed
    // 3006263: its TASK_RUNNING held back, the restarted core locked while
    // it ran with the data; seed 3008795: the same after two restarts).
    tracked_[m.task_id].joined = !ran && m.joins;
    ever_ran_ = ever_ran_ || ran;
    next_member_number_ = std::max(next_member_number_, member_number(m.name) + 1);
    unconfirmed_.insert(m.task_id);
  }
}

void SchedulerCore::release_stray_record(Millis now) {
  if (stray_record_ &&
      (!stray_seed_ || stray_seed_->task_id != stray_record_->task_id || !stray_seed_blocks(now))) {
    write_task(*stray_record_, true);
    stray_record_.reset();
  }
}

void SchedulerCore::on(const FrameworkIdPersisted& e, Millis now, Effects&) {
  framework_id_in_flight_ = false;
  counters_.persistence_errors["framework_id"] += e.ok ? 0 : 1;
  if (e.ok) {
    persisted_framework_id_ = e.framework_id;
  } else {
    framework_id_retry_at_ = now + config_.persist_retry_interval;
  }
}

void SchedulerCore::on(const TaskPersisted& e, Millis now, Effects& out) {
  counters_.persistence_errors["task"] += e.ok ? 0 : 1;
  auto it = task_writes_.find(e.task_id);
  if (it == task_writes_.end()) {
    return;
  }
  auto& write = it->second;
  write.in_flight = std::max(0, write.in_flight - 1);
  const bool record_of_held_launch =
      !e.removed && !write.remove && held_launches_.contains(e.task_id);
  if (!e.ok) {
    write.failed = true;
    write.retry_at = now + config_.persist_retry_interval;
    if (record_of_held_launch) {
      // Not retried with the offer held: the offer goes back, and the
      // member (and whatever record may have been written) is forgotten.
      abandon_launch(e.task_id, true, now, out);
    }
    return;
  }
  if (write.in_flight == 0 && write.remove == e.removed) {
    task_writes_.erase(it);
  }
  if (record_of_held_launch) {
    release_launch(e.task_id, now, out);
  }
}

void SchedulerCore::release_launch(const std::string& task_id, Millis now, Effects& out) {
  if (!may_act() || !can_persist()) {
    // Locked, or the store went away meanwhile: launch nothing now.
    abandon_launch(task_id, true, now, out);
    return;
  }
  auto it = held_launches_.find(task_id);
  it->second.recorded = true;
  std::vector<std::string> ready{task_id};
  if (std::find(bootstrap_group_.begin(), bootstrap_group_.end(), task_id) !=
      bootstrap_group_.end()) {
    // A static bootstrap goes out whole, once every member is recorded.
    const bool all_recorded =
        std::all_of(bootstrap_group_.begin(), bootstrap_group_.end(), [&](const auto& id) {
          auto h = held_launches_.find(id);
          return h != held_launches_.end() && h->second.recorded;
        });
    if (!all_recorded) {
      return;
    }
    ready = std::exchange(bootstrap_group_, {});
  }
  for (const auto& id : ready) {
    auto h = held_launches_.find(id);
    tracked_[id].joined = h->second.spec.cluster_state == "existing";
    const bool joins = h->second.spec.cluster_state == "existing";
    out.push_back(LaunchMember{h->second.offer_id, std::move(h->second.spec)});
    held_launches_.erase(h);
    note_launch_sent(id, joins);
  }
}

void SchedulerCore::abandon_launch(std::string task_id, bool decline, Millis now, Effects& out,
                                   std::optional<bool> decline_mates) {
  auto held = held_launches_.find(task_id);
  if (held == held_launches_.end()) {
    return;
  }
  if (std::find(bootstrap_group_.begin(), bootstrap_group_.end(), task_id) !=
      bootstrap_group_.end()) {
    // Launched without this one, the others would form a cluster that
    // lists a member that never starts; with too few, one that never elects
    // a leader. The whole bootstrap goes; the next pass gathers offers again.
    for (const auto& mate : std::exchange(bootstrap_group_, {})) {
      if (mate != task_id) {
        abandon_launch(mate, decline_mates.value_or(decline), now, out);
      }
    }
    held = held_launches_.find(task_id);
  }
  if (decline && subscribed_) {
    out.push_back(DeclineOffer{held->second.offer_id, config_.offer_refuse_seconds});
  }
  const bool added_to_etcd = held->second.spec.cluster_state == "existing";
  held_launches_.erase(held);
  ++counters_.launches["abandoned"];
  auto it = std::find_if(members_.begin(), members_.end(),
                         [&](const Member& m) { return m.task_id == task_id; });
  if (it == members_.end()) {
    return;
  }
  write_task(*it, true);
  if (added_to_etcd) {
    // etcd lists it: the next launch names it, the next fresh check finds it
    // unknown and the reconcile pass removes it.
    departed_.push_back(*it);
  }
  members_.erase(it);
  tracked_.erase(task_id);
  membership_changed(now);
}

void SchedulerCore::abandon_all_launches(Millis now, Effects& out) {
  while (!held_launches_.empty()) {
    abandon_launch(held_launches_.begin()->first, false, now, out);
  }
}

// Leadership. The rule (docs/architecture.md, "Leadership"): a leader keeps
// leading through a ZooKeeper connection loss (its session lives, so nobody
// else can be elected) and through a session expiry for as long as its
// Mesos subscription lives: a scheduler that subscribes as this framework
// ends that subscription (ERROR "Framework failed over"). Meanwhile it
// writes nothing to the store, so it launches nothing, but it goes on
// checking, acknowledging, killing, removing failed members and reseeding.
// While its session may be gone (expired, or cut off longer than the
// session timeout) it never subscribes again: that would take the
// framework from a new leader. It waits instead until ZooKeeper says:
// leading again (the same session, or elected in a new one: whoever led
// meanwhile had to subscribe and so ended this subscription) lets it write
// and subscribe; another scheduler leading makes it exit, as does being
// deposed while connected, and Mesos saying another scheduler subscribed.
bool SchedulerCore::store_writable() const {
  return zk_session_ == ZkSession::kConnected && leading_ && !expired_;
}

bool SchedulerCore::session_may_be_gone(Millis now) const {
  // expired_ is set whenever the session is reported expired (persist mode).
  return config_.persist && (expired_ || (zk_session_ == ZkSession::kConnectionLost &&
                                          now - zk_lost_since_ >= config_.zk_session_timeout));
}

void SchedulerCore::on(const LeadershipChanged& e, Millis now, Effects& out) {
  const bool was_leading = leading_;
  if (e.session == ZkSession::kConnectionLost && zk_session_ != ZkSession::kConnectionLost) {
    zk_lost_since_ = now;
  }
  zk_session_ = e.session;
  leading_ = e.leading;
  if (!config_.persist) {
    return;
  }
  if (e.session == ZkSession::kExpired) {
    expired_ = true;
  } else if (e.leading) {
    expired_ = false;  // elected again: whoever led meanwhile ended our subscription
  } else if (e.session == ZkSession::kConnected && e.another_leads) {
    exit_scheduler("the election names another scheduler as the leader", out);
  } else if (e.session == ZkSession::kConnected && was_leading && !expired_) {
    exit_scheduler("deposed while connected to ZooKeeper: another scheduler leads now", out);
  }
  if (store_writable()) {
    // Writes that failed while it was away need not wait for their retry.
    for (auto& [task_id, write] : task_writes_) {
      write.retry_at = std::min(write.retry_at, now);
    }
    framework_id_retry_at_ = std::min(framework_id_retry_at_, now);
  }
}

namespace {
// Mesos answers a subscription of a framework it removed (failover timeout
// passed, or torn down) with an ERROR saying so (reference §13).
bool says_framework_removed(const std::string& message) {
  return message.find("removed") != std::string::npos ||
         message.find("torn down") != std::string::npos ||
         message.find("completed") != std::string::npos;
}
const char* const kRemovedAdvice =
    "it stayed away longer than --failover-timeout-seconds, or an operator tore it down; Mesos "
    "killed its members and will not take this framework ID again. ";
const char* const kStartAgain =
    "Start the scheduler again to run a new framework with a new, empty etcd cluster; restore "
    "the data from a backup if needed";
}  // namespace

void SchedulerCore::on(const FrameworkError& e, Millis, Effects& out) {
  if (says_framework_removed(e.message)) {
    if (framework_gone_) {
      return;  // already clearing the store
    }
    framework_gone_ = true;
    subscribed_ = false;
    out.push_back(StopSubscribing{});
    // A new process hears it on its first subscription, with the ID it loaded.
    const std::string& id = framework_id_.empty() ? persisted_framework_id_ : framework_id_;
    const std::string what =
        "Mesos removed framework '" + id + "' (" + e.message + "): " + kRemovedAdvice;
    if (!config_.persist) {
      exit_scheduler(what + kStartAgain, out);
    } else if (!store_writable()) {
      exit_scheduler(what +
                         "The persisted state was not deleted (this scheduler does not lead in "
                         "ZooKeeper now): delete its framework_id and tasks nodes, then start the "
                         "scheduler again to run a new framework with a new, empty etcd cluster",
                     out);
    } else {
      removed_message_ = what;
      out.push_back(ClearStore{});
    }
    return;
  }
  if (e.message.find("failed over") != std::string::npos) {
    subscribed_ = false;
    out.push_back(StopSubscribing{});
    exit_scheduler("another scheduler subscribed as framework '" + framework_id_ + "' (" +
                       e.message + "): this one stops acting and exits",
                   out);
  }
}

void SchedulerCore::on(const StoreCleared& e, Millis, Effects& out) {
  counters_.persistence_errors["clear"] += e.ok ? 0 : 1;
  if (!framework_gone_) {
    return;
  }
  exit_scheduler(
      e.ok ? removed_message_ + "The persisted state was deleted. " + kStartAgain
           : removed_message_ + "Deleting the persisted state failed (" + e.error +
                 "): delete its framework_id and tasks nodes, then start the scheduler again to "
                 "run a new framework with a new, empty etcd cluster",
      out);
}

void SchedulerCore::exit_scheduler(std::string reason, Effects& out) {
  if (exit_sent_) {
    return;
  }
  exit_sent_ = true;
  out.push_back(ExitScheduler{std::move(reason)});
}

void SchedulerCore::write_task(const Member& member, bool remove) {
  if (!config_.persist) {
    return;
  }
  auto& write = task_writes_[member.task_id];
  write.remove = remove;
  write.member = member;
  write.failed = false;
  write.unsent = true;
}

void SchedulerCore::flush_writes(Effects& out) {
  if (!store_writable()) {
    return;  // kept until this scheduler may write again (see "Leadership")
  }
  for (auto& [task_id, write] : task_writes_) {
    if (!write.unsent) {
      continue;
    }
    write.unsent = false;
    ++write.in_flight;
    if (write.remove) {
      out.push_back(ForgetTask{task_id});
    } else {
      out.push_back(PersistTask{write.member});
    }
  }
}

void SchedulerCore::persist_framework_id(Effects& out) {
  if (!config_.persist || framework_id_.empty() || framework_id_in_flight_ ||
      persisted_framework_id_ == framework_id_ || !store_writable()) {
    return;
  }
  framework_id_in_flight_ = true;
  out.push_back(PersistFrameworkId{framework_id_});
}

void SchedulerCore::retry_writes(Millis now, Effects& out) {
  if (!config_.persist) {
    return;
  }
  if (now >= framework_id_retry_at_) {
    persist_framework_id(out);
  }
  persist_cluster_size(now, out);
  for (auto& [task_id, write] : task_writes_) {
    if (write.failed && write.in_flight == 0 && now >= write.retry_at) {
      write.failed = false;
      write.unsent = true;
    }
  }
}

void SchedulerCore::tick_reconciliation(Millis now, Effects& out) {
  for (auto& r : reconcile_.tick(now)) {
    out.push_back(std::move(r));
  }
  if (reconcile_.failed()) {
    exit_scheduler(
        "cannot get in sync with Mesos after a subscription: " + reconcile_.failure_reason() +
            ". Nothing was launched or killed meanwhile; restart the scheduler once "
            "the master and its agents are back",
        out);
  }
}

}  // namespace etcdmesos::core
