// Persistence and leadership of the scheduler process (-zk-framework-persist):
// ZooKeeper session, leader election among schedulers of the same framework
// name, loading the persisted state once elected, performing the core's
// persistence effects. What to do on a change of leadership or session, or
// on a removed framework, is the core's rule (LeadershipChanged,
// FrameworkError); this file only reports and performs.
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

core::ZkSession session_of(io::ZkSessionState state) {
  switch (state) {
    case io::ZkSessionState::kConnected:
      return core::ZkSession::kConnected;
    case io::ZkSessionState::kConnecting:
      return core::ZkSession::kConnectionLost;
    case io::ZkSessionState::kExpired:
    case io::ZkSessionState::kClosed:
      break;
  }
  return core::ZkSession::kExpired;
}

}  // namespace

Result<void> Scheduler::start_persistence() {
  auto location = io::persist_location(options_.zk_framework_persist, options_.framework_name);
  if (!location) {
    return location.error();
  }
  const auto session_timeout =
      std::chrono::milliseconds(static_cast<int64_t>(options_.zk_session_timeout_seconds * 1000));
  io::ZkAccess access;
  if (!options_.zk_auth_file.empty()) {
    try {
      access.digest = read_secret(options_.zk_auth_file, "--zk-auth-file");
    } catch (const std::exception& e) {
      return make_error(e.what());
    }
    const auto colon = access.digest.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == access.digest.size()) {
      return make_error("--zk-auth-file " + options_.zk_auth_file +
                        " must hold user:password on one line");
    }
    access.world_readable = options_.zk_acl_world_read;
  } else {
    log()->warn(
        "no --zk-auth-file: the nodes under {} are open to anyone who reaches ZooKeeper (they "
        "could change which members the scheduler adopts)",
        options_.zk_framework_persist);
  }
  zk_ = std::make_unique<io::ZkClient>(io_.get_executor(), location->servers, session_timeout,
                                       std::move(access), time_);
  zk_->on_session_state([this](io::ZkSessionState state) { on_zk_state(state); });
  store_ = std::make_unique<io::FrameworkStore>(io_.get_executor(), *zk_, location->paths);
  io::LeaderElection::Callbacks callbacks;
  callbacks.on_elected = [this] { on_elected(); };
  callbacks.on_deposed = [this] { on_deposed(); };
  callbacks.on_other_leader = [this] {
    if (!stopped_ && elected_) {
      feed_leadership();
    }
  };
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
    note(spdlog::level::warn,
         "leading again (ZooKeeper session " + std::string(io::to_string(zk_->state())) + ")");
    feed_leadership();
    return;
  }
  elected_ = true;
  note(spdlog::level::warn, "elected leader of framework '" + options_.framework_name +
                                "': loading the persisted state");
  load_state();
}

void Scheduler::on_deposed() {
  if (stopped_ || !elected_) {
    return;
  }
  note(spdlog::level::warn,
       "no longer leading in ZooKeeper (session " + std::string(io::to_string(zk_->state())) + ")");
  feed_leadership();
}

void Scheduler::on_zk_state(io::ZkSessionState state) {
  if (stopped_) {
    return;
  }
  log()->info("ZooKeeper session {}", io::to_string(state));
  if (elected_) {
    feed_leadership();
  }
}

// Whether to go on leading is the core's rule (LeadershipChanged); it hears
// of every change once this scheduler was first elected.
void Scheduler::feed_leadership() {
  const auto leader = election_->leader_info();
  const bool another_leads =
      !election_->leading() && leader && *leader != admin_endpoint_.to_string();
  feed(core::LeadershipChanged{election_->leading(), session_of(zk_->state()), another_leads});
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
      load_retry_ = std::make_unique<Timer>(io_.get_executor(), time_);
      load_retry_->expires_after(kLoadRetry);
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
  core::Recovered event;
  for (const auto& bad : state.bad) {
    log()->error("ignoring unreadable persisted record '{}': {}", bad.path, bad.reason);
    if (bad.path == store_->paths().framework_id) {
      event.framework_id_unreadable = "'" + bad.path + "': " + bad.reason;
    }
  }
  event.framework_id = state.framework_id ? state.framework_id->framework_id : "";
  if (state.settings) {
    event.cluster_size = static_cast<std::size_t>(state.settings->cluster_size);
    if (*event.cluster_size != options_.cluster_size) {
      log()->warn(
          "keeping the cluster size {} an operator set with POST /cluster-size (persisted), not "
          "-cluster-size={}; POST /cluster-size to change it",
          *event.cluster_size, options_.cluster_size);
    }
  }
  for (const auto& record : state.tasks) {
    event.members.push_back(member_of(record));
  }
  log()->info("persisted state: framework '{}', {} member task(s)",
              event.framework_id.empty() ? "(none)" : event.framework_id, event.members.size());
  framework_id_ = event.framework_id;
  feed(event);
  // The core may have taken the session for gone meanwhile, or refused what
  // was loaded (it exited then).
  feed_leadership();
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

void Scheduler::persist(const core::PersistClusterSize& e) {
  store_->set_cluster_size(e.size, [this, size = e.size](Result<void> done) {
    if (!done) {
      log()->warn("persisting cluster size {} failed: {}", size, done.error().message);
    }
    feed(core::ClusterSizePersisted{size, static_cast<bool>(done),
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

void Scheduler::clear_store() {
  if (!store_) {
    feed(core::StoreCleared{false, "no store"});
    return;
  }
  log()->warn("deleting the persisted state under '{}'", store_->paths().base);
  store_->clear([this](Result<void> cleared) {
    feed(core::StoreCleared{static_cast<bool>(cleared),
                            cleared ? std::string() : cleared.error().message});
  });
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
