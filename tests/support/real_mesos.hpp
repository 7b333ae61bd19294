// A real Apache Mesos 1.12 (../shared/mesos, unpacked by scripts/test into
// build/mesos) for end-to-end tests: one mesos-master publishing itself in
// the test's ZooKeeper, with an in-memory registry and short agent ping
// timeouts, and K mesos-agents on their own loopback addresses with their
// own work, runtime and fetcher-cache directories and disjoint port ranges.
//
// Stopped by PID, leaving nothing behind: each agent gets SIGUSR1 (it kills
// its executors and unregisters) and is waited for; then the master gets
// SIGTERM; then any executor still alive is killed by the PID its agent
// recorded, and any etcd still running from the agents' work directories.
#pragma once

#include "support/processes.hpp"

#include <boost/json/object.hpp>

#include <sys/types.h>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace etcdmesos::testing {

// The unpacked Mesos (the folder holding bin/ and lib/): the environment
// variable ETCDMESOS_MESOS_HOME, else build/mesos/mesos-1.12.0 of this
// source tree; nullopt when neither holds bin/mesos-master.
std::optional<std::filesystem::path> mesos_home();

struct RealMesosOptions {
  int agents = 3;
  // Masters contending through ZooKeeper; the first one started leads.
  int masters = 1;
  // The masters' ZooKeeper session timeout (--zk_session_timeout): how long
  // the node of a killed leader outlives it, so when a standby is elected.
  std::chrono::seconds master_zk_session_timeout{10};
  std::string zk_url;          // zk://127.0.0.1:PORT/mesos
  std::string first_agent_ip;  // agent i (from 0) listens on this address + i
  std::filesystem::path dir;   // work, runtime and log directories go below
  // Every agent offers the same resources, and a port range of its own.
  std::string agent_resources = "cpus:4;mem:4096;disk:16384";
  uint16_t first_task_port = 31000;
  uint16_t task_ports_per_agent = 100;
  // --registration_backoff_factor of the agents (unset: Mesos's default).
  std::optional<std::chrono::seconds> agent_registration_backoff;
};

class RealMesos {
 public:
  // Starts the master and the agents and waits until the master lists every
  // agent as active; throws std::runtime_error (with the logs) otherwise.
  explicit RealMesos(RealMesosOptions options);
  ~RealMesos();
  RealMesos(const RealMesos&) = delete;
  RealMesos& operator=(const RealMesos&) = delete;

  // The leading master's port: the master that answers /master/state as
  // the leader (the last one found when none does right now).
  uint16_t master_port();
  std::string agent_ip(int i) const;
  // Active agents and frameworks as the master's /master/state lists them
  // (-1 when it does not answer).
  int active_agents() { return active_entries("slaves"); }
  int active_frameworks() { return active_entries("frameworks"); }
  // SIGKILL of agent i's process; its executors (posix launcher) live on.
  void kill_agent(int i);
  // A host lost: agent `agent_id` (as the master names it) is killed with
  // SIGKILL together with everything it started (executors, etcd). False
  // when the master does not know the agent.
  bool lose_agent_host(const std::string& agent_id);
  // Agent i started again on the same work directory (it recovers its
  // executors).
  void restart_agent(int i);
  // SIGKILL and a restart of the master (the same flags and work directory);
  // with several masters, of the leading one.
  void restart_master();
  // SIGKILL of the leading master, which stays down: another master is
  // elected once its ZooKeeper session expires. False with a single master.
  bool kill_leading_master();

  void stop();  // idempotent
  std::string logs() const;

 private:
  int active_entries(const char* list);
  // GET /master/state as a JSON object (nullopt when the master does not
  // answer 200 with one).
  std::optional<boost::json::object> master_state();
  // GET /master/state of the master on `port`, parsed (nullopt unless 200
  // with a JSON object).
  std::optional<boost::json::object> state_of(uint16_t port);
  void kill_master(int i);  // SIGKILL, reaped
  std::vector<std::string> master_argv(int i) const;
  std::filesystem::path master_dir(int i) const;
  // Index of the master answering /master/state as the leader, if any.
  std::optional<int> leading_master();
  std::vector<std::string> agent_argv(int i) const;
  std::filesystem::path agent_dir(int i) const;
  void start_agent(int i);
  void kill_leftovers();

  RealMesosOptions options_;
  std::filesystem::path home_;
  std::vector<uint16_t> master_ports_;
  int leader_ = 0;  // the master last found leading
  std::vector<uint16_t> agent_ports_;
  std::vector<std::unique_ptr<ChildProcess>> masters_;
  std::vector<std::unique_ptr<ChildProcess>> agents_;
  bool stopped_ = false;
};

}  // namespace etcdmesos::testing
