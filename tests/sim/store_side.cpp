// The simulated ZooKeeper store behind -zk-framework-persist: the framework
// ID and one record per running member. Writes are answered in the order
// they were made (the scheduler's store has one queue), each after a short
// delay; a write fails while the store is down and now and then at random.
// Outages come and go during the fault phase and are told to the core as
// LeadershipChanged, as the shell does: the connection is lost at once (the
// election deposes at once), the session expires one session timeout into
// a longer outage (the shell hears of it only when ZooKeeper is back, at
// the latest), and when ZooKeeper returns the scheduler is elected again or,
// now and then, a standby was elected first (which the old one may read)
// and subscribes, which Mesos tells the old one as ERROR "Framework failed
// over". Whether to go on or
// to exit is the core's rule; the world only performs ExitScheduler.
//
// Also here, because only a persisting scheduler survives one: scheduler
// restarts. The process dies (at random, or when the core asks to exit),
// and its supervisor starts a new one, which loads the store once it can,
// feeds the new core Recovered and subscribes with the stored framework ID,
// as src/scheduler/scheduler_persist.cpp does. A framework left without a
// scheduler longer than its failover timeout is removed by Mesos
// (mesos_side.cpp); the next scheduler's subscription gets ERROR, and the
// core clears the store and exits; the one after it registers a new
// framework.
#include "invariants.hpp"
#include "world.hpp"

namespace etcdmesos::sim {

using namespace std::chrono_literals;

namespace {
// -zk-session-timeout (the scheduler's default, also in core_config()): a
// store outage longer than this expires the session.
constexpr Millis kZkSessionTimeout = 10000ms;
// -failover-timeout-seconds, shortened from its week so that some absences
// outlast it.
constexpr Millis kFailoverTimeout = 90000ms;
// The shell retries loading the store this often while it cannot.
constexpr Millis kLoadRetry = 2000ms;
}  // namespace

void World::store_write(std::function<core::Event(bool ok, const std::string& error)> answer,
                        std::function<void()> apply) {
  const Millis start = std::max(now_, store_busy_until_);
  const Millis at = start + store_rng_.millis(2, 200);
  store_busy_until_ = at;
  const uint64_t incarnation = incarnation_;
  after(at - now_, [this, incarnation, answer = std::move(answer), apply = std::move(apply)] {
    if (incarnation != incarnation_) {
      // Its process died: ZooKeeper may still have applied it (in order),
      // but nobody hears the answer.
      if (incarnation > store_cut_incarnation_ && store_up_ && store_rng_.chance(0.5)) {
        apply();
      } else {
        store_cut_incarnation_ = std::max(store_cut_incarnation_, incarnation);
      }
      return;
    }
    std::string error;
    if (!store_up_) {
      error = "ZooKeeper: connection loss";
    } else if (faults_on_ && store_rng_.chance(0.05)) {
      error = "ZooKeeper: operation timeout";
    }
    if (error.empty()) {
      apply();
    } else if (tracing()) {
      trace("fault: store write fails (" + error + ")");
    }
    deliver(answer(error.empty(), error));
  });
}

void World::perform(const core::PersistFrameworkId& e) {
  store_write(
      [id = e.framework_id](bool ok, const std::string& error) -> core::Event {
        return core::FrameworkIdPersisted{id, ok, error};
      },
      [this, id = e.framework_id] { stored_framework_id_ = id; });
}

void World::perform(const core::PersistClusterSize& e) {
  store_write(
      [size = e.size](bool ok, const std::string& error) -> core::Event {
        return core::ClusterSizePersisted{size, ok, error};
      },
      [this, size = e.size] { stored_cluster_size_ = size; });
}

void World::perform(const core::PersistTask& e) {
  store_write(
      [id = e.member.task_id](bool ok, const std::string& error) -> core::Event {
        return core::TaskPersisted{id, false, ok, error};
      },
      [this, m = e.member] {
        stored_tasks_[m.task_id] = m;
        ever_stored_.insert(m.task_id);
      });
}

void World::perform(const core::ForgetTask& e) {
  store_write(
      [id = e.task_id](bool ok, const std::string& error) -> core::Event {
        return core::TaskPersisted{id, true, ok, error};
      },
      [this, id = e.task_id] { stored_tasks_.erase(id); });
}

void World::perform(const core::ClearStore&) {
  store_write(
      [](bool ok, const std::string& error) -> core::Event {
        return core::StoreCleared{ok, error};
      },
      [this] {
        stored_framework_id_.clear();
        stored_tasks_.clear();
      });
}

void World::perform(const core::StopSubscribing&) {
  // The process exits right after (ExitScheduler); nothing to do before.
}

void World::perform(const core::ExitScheduler& e) {
  if (!options_.persist) {
    // Only reconciliation of persisted tasks can fail: not expected here.
    fail("the core asked the scheduler to exit: " + e.reason);
    return;
  }
  scheduler_dies("the core asked to exit: " + e.reason,
                 standby_waiting_ ? store_rng_.millis(100, 1000) : store_rng_.millis(1000, 10000));
}

void World::schedule_scheduler_death() {
  after(store_rng_.millis(15000, 120000), [this] {
    if (!faults_on_) {
      return;
    }
    if (scheduler_up_) {
      // Mostly back well within the failover timeout; now and then not.
      const Millis away =
          store_rng_.chance(0.1)
              ? store_rng_.millis(kFailoverTimeout.count() + 10000, 3 * kFailoverTimeout.count())
              : store_rng_.millis(500, 60000);
      scheduler_dies("fault: the scheduler process is killed", away);
    }
    schedule_scheduler_death();
  });
}

void World::scheduler_dies(const std::string& why, Millis away) {
  if (!scheduler_up_) {
    return;
  }
  if (tracing()) {
    trace(why + "; scheduler process down, restarted in " + core::describe_duration(away));
  }
  ++outcome_.restarts;
  scheduler_up_ = false;
  ++incarnation_;
  subscribed_ = false;
  ++connection_;
  // The framework's offers are rescinded and its filters dropped.
  offers_.clear();
  for (auto& a : agents_) {
    a.offered = false;
    a.refuse_until = Millis{0};
  }
  if (!framework_id_.empty() && !frameworks_[framework_id_].removed) {
    const std::string id = framework_id_;
    const uint64_t epoch = frameworks_[id].away_epoch;
    after(kFailoverTimeout, [this, id, epoch] {
      const Framework& f = frameworks_[id];
      if (!f.removed && f.away_epoch == epoch && !(subscribed_ && framework_id_ == id)) {
        remove_framework(id);
      }
    });
  }
  after(away, [this, incarnation = incarnation_] {
    if (incarnation == incarnation_) {
      scheduler_starts();
    }
  });
}

// The real scheduler seeds its core with its pid and start time. The first
// core's seed XORed with multiples of SplitMix64's increment (as before)
// could equal that core's state a few draws on, so a restarted core drew the
// same task-id suffixes and cluster tokens again (persist seed 15853 drew
// etcd-3-570b2a90 after etcd-5-570b2a90; five-member persist seed 23289400
// relaunched a failed member's task id). The finalizer mixes the
// incarnation in; the first core keeps its seed, so runs without restarts
// stay as they were.
uint64_t World::restarted_core_seed() const {
  return core::SplitMix64(options_.seed ^ 0x5eedULL ^ (incarnation_ * 0x9e3779b97f4a7c15ULL))
      .next();
}

void World::scheduler_starts() {
  if (scheduler_up_) {
    return;
  }
  if (!store_up_) {
    // Neither elected nor able to load: the shell retries.
    after(kLoadRetry, [this, incarnation = incarnation_] {
      if (incarnation == incarnation_) {
        scheduler_starts();
      }
    });
    return;
  }
  standby_waiting_ = false;
  elected_ = true;
  // Whatever the dead processes had in flight is settled by now.
  store_cut_incarnation_ = incarnation_ - 1;
  core_ = std::make_unique<core::SchedulerCore>(core_config(), restarted_core_seed());
  for (auto& inv : invariants_) {
    inv->on_scheduler_restart(*this);
  }
  scheduler_up_ = true;
  framework_id_ = stored_framework_id_;
  core::Recovered recovered{stored_framework_id_, {}, "", stored_cluster_size_};
  for (const auto& [task_id, m] : stored_tasks_) {
    // As stored: the core itself takes a record not of a running member
    // for one written before its launch, as the shell reads "launching".
    recovered.members.push_back(m);
  }
  if (tracing()) {
    trace("a new scheduler process starts and loads the store");
  }
  deliver(recovered);
  resubscribe();
}

// Mesos answers the subscription with ERROR (reference §13); the core
// decides what follows (clear the store, exit).
void World::framework_refused(const std::string& framework_id) {
  if (tracing()) {
    trace("Mesos refuses framework " + framework_id + " (removed)");
  }
  deliver(core::FrameworkError{"Framework has been removed"});
}

void World::schedule_store_outage() {
  after(store_rng_.millis(10000, 60000), [this] {
    if (!faults_on_) {
      return;
    }
    if (store_up_) {
      store_up_ = false;
      const uint64_t outage_id = ++store_outage_;
      const Millis outage = store_rng_.millis(1000, 30000);
      if (tracing()) {
        trace("fault: ZooKeeper store unreachable for " + core::describe_duration(outage));
      }
      session_expired_ = false;
      deliver(core::LeadershipChanged{false, core::ZkSession::kConnectionLost, false});
      if (options_.persist && outage > kZkSessionTimeout) {
        // The server expires the session; the client hears of it now or
        // only once ZooKeeper is back (both happen).
        after(kZkSessionTimeout, [this, outage_id] {
          if (!store_up_ && store_outage_ == outage_id) {
            session_expired_ = true;
            elected_ = false;  // a standby may be elected from now on
            if (store_rng_.chance(0.5)) {
              deliver(core::LeadershipChanged{false, core::ZkSession::kExpired, false});
            }
          }
        });
      }
      after(outage, [this, outage_id] {
        if (!store_up_ && store_outage_ == outage_id) {
          store_back();
        }
      });
    }
    schedule_store_outage();
  });
}

// ZooKeeper is reachable again. Within the session, the same election node
// leads again. After an expiry the scheduler hears of it, starts a new
// session and joins the election anew: it leads again, or a standby that
// joined first leads and subscribes as the framework (Mesos ends the old
// subscription with ERROR "Framework failed over").
void World::store_back() {
  store_up_ = true;
  if (!scheduler_up_) {
    session_expired_ = false;  // the process it belonged to is gone
    return;
  }
  if (!session_expired_) {
    // The same session: it leads again, unless a standby was elected
    // after an earlier expiry (it is about to subscribe).
    deliver(core::LeadershipChanged{elected_, core::ZkSession::kConnected, !elected_});
    resubscribe();
    return;
  }
  session_expired_ = false;
  elected_ = false;  // until the new session's node leads
  deliver(core::LeadershipChanged{false, core::ZkSession::kExpired, false});
  deliver(core::LeadershipChanged{false, core::ZkSession::kConnected, false});
  if (!faults_on_ || !store_rng_.chance(0.3)) {
    elected_ = true;
    deliver(core::LeadershipChanged{true, core::ZkSession::kConnected, false});
    resubscribe();
    return;
  }
  if (tracing()) {
    trace("a standby scheduler was elected first");
  }
  standby_waiting_ = true;
  if (store_rng_.chance(0.5)) {
    // The old one reads who leads before the standby subscribes.
    deliver(core::LeadershipChanged{false, core::ZkSession::kConnected, true});
  }
  after(store_rng_.millis(200, 2000), [this, incarnation = incarnation_] {
    if (incarnation != incarnation_ || !scheduler_up_) {
      return;  // the old process is gone already
    }
    // The standby loaded the store and subscribes: the old subscription
    // ends. (An old process that was not subscribed exited when it heard of
    // the expiry.)
    subscribed_ = false;
    ++connection_;
    deliver(core::FrameworkError{"Framework failed over"});
  });
}

}  // namespace etcdmesos::sim
