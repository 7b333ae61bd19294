// Persistence and leadership of the scheduler process (-zk-framework-persist):
// ZooKeeper session, leader election among schedulers of the same framework
// name, loading the persisted state once elected, performing the core's
// persistence effects, and the ERROR Mesos sends for a removed framework.
//
// Order at start-up: join the election; once elected, load what is persisted
// (a standby must not act on a picture loaded before it led), feed it to the
// core as Recovered, and only then subscribe to Mesos.
#include "common/log.hpp"
#include "scheduler/scheduler.hpp"

#include <cstdlib>

namespace etcdmesos::scheduler {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

auto log() {
  return logger("scheduler");
}

constexpr auto kLoadRetry = 2s;

persisted::TaskRecord task_record(const core::Member& m) {
  persisted::TaskRecord r;
  r.task_id = m.task_id;
  r.agent_id = m.agent_id;
  r.name = m.name;
  r.host = m.host;
  r.peer_port = m.peer_port;
  r.client_port = m.client_port;
  // Written before the launch too (the core holds the offer until it is).
  r.launching = m.state != core::TaskState::kRunning;
  r.joins = m.joins;
  return r;
}

core::Member member_of(const persisted::TaskRecord& r) {
  core::Member m;
  m.task_id = r.task_id;
  m.agent_id = r.agent_id;
  m.name = r.name;
  m.host = r.host;
  m.peer_port = r.peer_port;
  m.client_port = r.client_port;
  // A record written before the launch, never updated at TASK_RUNNING: the
  // core reconciles it like the others and forgets it if Mesos never ran it.
  m.state = r.launching ? core::TaskState::kStaging : core::TaskState::kRunning;
  m.joins = r.joins;
  return m;
}

// Mesos answers a subscription of a framework it removed (failover timeout
// passed, or torn down) with this ERROR; see reference §13.
bool framework_removed(const std::string& message) {
  return message.find("removed") != std::string::npos ||
         message.find("torn down") != std::string::npos ||
         message.find("completed") != std::string::npos;
}

}  // namespace

Result<void> Scheduler::start_persistence() {
  auto location = io::persist_location(options_.zk_framework_persist, options_.framework_name);
  if (!location) {
    return location.error();
  }
  const auto session_timeout =
      std::chrono::milliseconds(static_cast<int64_t>(options_.zk_session_timeout_seconds * 1000));
  zk_ = std::make_unique<io::ZkClient>(io_.get_executor(), location->servers, session_timeout);
  zk_->on_session_state([this](io::ZkSessionState state) { on_zk_state(state); });
  store_ = std::make_unique<io::FrameworkStore>(io_.get_executor(), *zk_, location->paths);
  io::LeaderElection::Callbacks callbacks;
  callbacks.on_elected = [this] { on_elected(); };
  callbacks.on_deposed = [this] { on_deposed(); };
  election_ = std::make_unique<io::LeaderElection>(io_.get_executor(), *zk_, location->paths.leader,
                                                   admin_endpoint_.to_string(), callbacks);
  log()->info(
      "persisting under zk://{}{}; waiting to be elected leader among the schedulers of "
      "framework '{}'",
      location->servers, location->paths.base, options_.framework_name);
  election_->start();
  return {};
}

void Scheduler::on_elected() {
  if (stopped_) {
    return;
  }
  if (elected_) {
    // The connection came back within the session: the same node leads again.
    log()->info("leading again after a ZooKeeper connection loss");
    return;
  }
  elected_ = true;
  log()->warn("elected leader of framework '{}': loading the persisted state",
              options_.framework_name);
  load_state();
}

void Scheduler::on_deposed() {
  if (stopped_ || !elected_) {
    return;
  }
  if (zk_->state() == io::ZkSessionState::kConnecting) {
    // Only the connection is lost: no other scheduler can be elected while
    // this session lives, and nothing new is launched while the store is
    // unreachable. Mesos fences us (ERROR "Framework failed over") should
    // the session expire and another scheduler subscribe.
    log()->warn("ZooKeeper connection lost while leading: launching nothing new until it returns");
    return;
  }
  fatal("lost the leadership (ZooKeeper session " + std::string(io::to_string(zk_->state())) +
        "): another scheduler may lead now, so this one stops acting and exits; its supervisor "
        "restarts it as a standby");
}

void Scheduler::on_zk_state(io::ZkSessionState state) {
  if (stopped_) {
    return;
  }
  log()->info("ZooKeeper session {}", io::to_string(state));
  if (state == io::ZkSessionState::kExpired && elected_) {
    fatal(
        "the ZooKeeper session expired while leading: another scheduler may lead now, so "
        "this one exits; its supervisor restarts it as a standby");
    return;
  }
  feed(core::StoreAvailability{state == io::ZkSessionState::kConnected});
}

void Scheduler::load_state() {
  if (stopped_) {
    return;
  }
  store_->load([this](Result<io::PersistedState> loaded) {
    if (stopped_) {
      return;
    }
    if (!loaded) {
      log()->warn("cannot load the persisted state (retrying in {} s): {}", kLoadRetry.count(),
                  loaded.error().message);
      load_retry_ = std::make_unique<asio::steady_timer>(io_, kLoadRetry);
      load_retry_->async_wait([this](boost::system::error_code ec) {
        if (!ec) {
          load_state();
        }
      });
      return;
    }
    recovered(std::move(*loaded));
  });
}

void Scheduler::recovered(io::PersistedState state) {
  for (const auto& bad : state.bad) {
    log()->error("ignoring unreadable persisted record '{}': {}", bad.path, bad.reason);
  }
  const std::string framework_id = state.framework_id ? state.framework_id->framework_id : "";
  const bool framework_id_bad = std::any_of(
      state.bad.begin(), state.bad.end(),
      [&](const io::BadRecord& bad) { return bad.path == store_->paths().framework_id; });
  if (framework_id_bad) {
    // Registering as a new framework would start a second cluster beside
    // the one still running under the lost ID.
    fatal("the persisted framework ID at '" + store_->paths().framework_id +
          "' is unreadable: fix or delete it (deleting it makes the next scheduler start a new "
          "framework and a new, empty etcd cluster)");
    return;
  }
  core::Recovered event;
  event.framework_id = framework_id;
  for (const auto& record : state.tasks) {
    event.members.push_back(member_of(record));
  }
  log()->info("persisted state: framework '{}', {} member task(s)",
              framework_id.empty() ? "(none)" : framework_id, event.members.size());
  framework_id_ = framework_id;
  feed(event);
  start_mesos();
}

void Scheduler::persist(const core::PersistFrameworkId& e) {
  store_->set_framework_id(e.framework_id, [this, id = e.framework_id](Result<void> done) {
    if (!done) {
      log()->warn("persisting framework id '{}' failed: {}", id, done.error().message);
    }
    feed(core::FrameworkIdPersisted{id, static_cast<bool>(done),
                                    done ? std::string() : done.error().message});
  });
}

void Scheduler::persist(const core::PersistTask& e) {
  store_->put_task(task_record(e.member), [this, id = e.member.task_id](Result<void> done) {
    if (!done) {
      log()->warn("persisting task '{}' failed: {}", id, done.error().message);
    }
    feed(core::TaskPersisted{id, false, static_cast<bool>(done),
                             done ? std::string() : done.error().message});
  });
}

void Scheduler::persist(const core::ForgetTask& e) {
  store_->remove_task(e.task_id, [this, id = e.task_id](Result<void> done) {
    if (!done) {
      log()->warn("forgetting task '{}' failed: {}", id, done.error().message);
    }
    feed(core::TaskPersisted{id, true, static_cast<bool>(done),
                             done ? std::string() : done.error().message});
  });
}

void Scheduler::on_framework_error(const std::string& message) {
  log()->error("the master sent ERROR: {}", message);
  if (framework_removed(message)) {
    if (exiting_) {
      return;  // already deleting the state
    }
    exiting_ = true;
    // Nothing more to hear from Mesos under this ID: stop re-subscribing.
    mesos_->stop();
    const std::string what =
        "Mesos removed framework '" + framework_id_ + "' (" + message +
        "): it stayed away longer than --failover-timeout-seconds, or an operator tore it down; "
        "Mesos killed its members and will not take this framework ID again. ";
    if (!store_) {
      fatal(what +
            "Start the scheduler again to run a new framework with a new, empty etcd "
            "cluster; restore the data from a backup if needed");
      return;
    }
    store_->clear([this, what](Result<void> cleared) {
      if (cleared) {
        fatal(what + "The persisted state under '" + store_->paths().base +
              "' was deleted. Start the scheduler again to run a new framework with a new, empty "
              "etcd cluster; restore the data from a backup if needed");
      } else {
        fatal(what + "Deleting the persisted state under '" + store_->paths().base + "' failed (" +
              cleared.error().message +
              "): delete its framework_id and tasks nodes, then start the scheduler again to run "
              "a new framework with a new, empty etcd cluster");
      }
    });
    return;
  }
  if (message.find("failed over") != std::string::npos) {
    fatal("another scheduler subscribed as framework '" + framework_id_ + "' (" + message +
          "): this one stops acting and exits");
  }
}

void Scheduler::fatal(const std::string& why) {
  if (exit_code_ != 0) {
    return;
  }
  log()->critical("exiting: {}", why);
  exit_code_ = 1;
  stop();
  io_.stop();
}

}  // namespace etcdmesos::scheduler
