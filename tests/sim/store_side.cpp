// The simulated ZooKeeper store behind -zk-framework-persist: the framework
// ID and one record per running member. Writes are answered in the order
// they were made (the scheduler's store has one queue), each after a short
// delay; a write fails while the store is down and now and then at random.
// Outages (connection loss, session expiry) come and go during the fault
// phase and are told to the core as StoreAvailability, as the shell does.
#include "world.hpp"

namespace etcdmesos::sim {

using namespace std::chrono_literals;

void World::store_write(std::function<core::Event(bool ok, const std::string& error)> answer,
                        std::function<void()> apply) {
  const Millis start = std::max(now_, store_busy_until_);
  const Millis at = start + store_rng_.millis(2, 200);
  store_busy_until_ = at;
  after(at - now_, [this, answer = std::move(answer), apply = std::move(apply)] {
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

void World::perform(const core::PersistTask& e) {
  store_write(
      [id = e.member.task_id](bool ok, const std::string& error) -> core::Event {
        return core::TaskPersisted{id, false, ok, error};
      },
      [this, m = e.member] { stored_tasks_[m.task_id] = m; });
}

void World::perform(const core::ForgetTask& e) {
  store_write(
      [id = e.task_id](bool ok, const std::string& error) -> core::Event {
        return core::TaskPersisted{id, true, ok, error};
      },
      [this, id = e.task_id] { stored_tasks_.erase(id); });
}

void World::perform(const core::ExitScheduler& e) {
  // The shell exits to be restarted; the simulated scheduler never restarts,
  // so an exit is a failure of the run.
  fail("the core asked the scheduler to exit: " + e.reason);
}

void World::schedule_store_outage() {
  after(store_rng_.millis(10000, 60000), [this] {
    if (!faults_on_) {
      return;
    }
    if (store_up_) {
      store_up_ = false;
      const Millis outage = store_rng_.millis(1000, 30000);
      if (tracing()) {
        trace("fault: ZooKeeper store unreachable for " + core::describe_duration(outage));
      }
      deliver(core::StoreAvailability{false});
      after(outage, [this] {
        if (!store_up_) {
          store_up_ = true;
          deliver(core::StoreAvailability{true});
        }
      });
    }
    schedule_store_outage();
  });
}

}  // namespace etcdmesos::sim
