// The whole local stack for end-to-end tests: a real ZooKeeper, the dev
// cluster (mesos-devcluster, registered in ZooKeeper) or a real Mesos, and
// the scheduler, each a child process stopped by PID when the stack is
// destroyed.
//
// Every stack leases its own loopback network for the agents (127.<a>.<b>.2,
// .3, ...; see AgentNetworkLease) and takes ports from the OS, so stacks of
// parallel test processes do not collide. Blocking API; waits poll an
// observable condition with a deadline.
#pragma once

#include "support/processes.hpp"
#include "support/real_mesos.hpp"
#include "support/zookeeper_server.hpp"

#include <boost/json.hpp>

#include <sys/types.h>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace etcdmesos::testing {

struct HttpResult {
  unsigned status = 0;
  std::string body;
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// One HTTP/1.1 request with "Connection: close" to an IPv4 literal host.
std::optional<HttpResult> http_call(const std::string& method, const std::string& host,
                                    uint16_t port, const std::string& target,
                                    const std::string& body = "",
                                    std::chrono::milliseconds timeout = std::chrono::seconds(5),
                                    const HeaderList& headers = {});

// POST to an etcd member's JSON gateway at "http://host:port".
std::optional<HttpResult> etcd_post(const std::string& client_url, const std::string& target,
                                    const std::string& body,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(5));
// Names in etcd's member list as `client_url` serves it ("" for an unstarted
// member); nullopt when it does not answer.
std::optional<std::vector<std::string>> etcd_member_names(const std::string& client_url);

// The etcd process serving `client_url`, found by its command line in /proc
// (the dev cluster runs members as grandchildren of its own process).
std::optional<pid_t> etcd_pid(const std::string& client_url);

// Path of a binary built by this project (<build>/bin/<name>).
std::string project_binary(const std::string& name);

struct StackOptions {
  int agents = 3;
  std::size_t cluster_size = 3;
  std::vector<std::string> scheduler_args;  // extra flags
  // When set, the scheduler persists in the stack's ZooKeeper under this
  // path (-zk-framework-persist=zk://.../<persist_path>).
  std::string persist_path;
  // When set, asked for the "host:port" each scheduler started from now on
  // reaches ZooKeeper through for its persistence and election (given the
  // stack's ZooKeeper's): a test puts a TcpRelay in front of one scheduler
  // to cut it off from ZooKeeper alone. Master detection stays direct.
  std::function<std::string(const std::string& zookeeper)> persist_through;
  // Masters contending through ZooKeeper (the dev cluster's --masters, or
  // real mesos-master processes).
  int masters = 1;
  // On a real Mesos, the masters' ZooKeeper session timeout: how long a killed
  // leader's node outlives it, so when a standby master is elected.
  std::chrono::seconds master_zk_session_timeout{10};
  std::chrono::milliseconds heartbeat_interval{2000};
  // On a real Mesos, the agents' --registration_backoff_factor (unset: Mesos's
  // 1 s): after a master failover each agent re-registers after a random time
  // up to this long, and the new master (in-memory registry) knows none of
  // its tasks until then. The dev cluster's failover takes ?reregister=S.
  std::optional<std::chrono::seconds> agent_registration_backoff;
  // When set, the scheduler runs as this user and group, without
  // supplementary groups (through setpriv; the test must run as root), so
  // that a test can cut only the scheduler's traffic with iptables' owner
  // match while the dev cluster, the members and the test stay root. The
  // scheduler then runs from copies of our binaries in the stack's directory,
  // because the build tree may lie where that user cannot read (a clone under
  // /root).
  std::optional<uid_t> scheduler_uid;
  // A real Apache Mesos (support/real_mesos.hpp) instead of the dev cluster:
  // set by the environment variable ETCDMESOS_MESOS=real, the one switch that
  // runs the integration scenarios on it.
  bool real_mesos = use_real_mesos();
  // False: the stack comes up without the scheduler, which the caller starts
  // with start_scheduler() (a benchmark times bring-up from that moment).
  bool start_scheduler = true;

  static bool use_real_mesos();
};

class LocalStack {
 public:
  explicit LocalStack(StackOptions options = {});
  ~LocalStack();

  ZooKeeperServer& zookeeper() { return *zookeeper_; }
  std::string master_host() const { return "127.0.0.1"; }
  // The leading master's port, as the dev cluster's endpoint file says now
  // (it is rewritten when the leader changes).
  uint16_t master_port();
  uint16_t admin_port() const { return admin_port_; }
  const std::filesystem::path& work_dir() const { return dir_.path(); }

  // GET on the scheduler's admin interface / the master; nullopt on no answer.
  std::optional<HttpResult> admin(const std::string& target);
  std::optional<HttpResult> master(const std::string& method, const std::string& target);
  // Parsed GET /members (empty when unavailable or not JSON).
  boost::json::array members();
  // Parsed GET /stats and GET /health (empty when unavailable).
  boost::json::object stats();
  boost::json::object health();
  // A request to the admin interface with an optional bearer token.
  std::optional<HttpResult> admin_call(const std::string& method, const std::string& target,
                                       const std::string& bearer = "");
  // GET /health says the scheduler is partitioned from members (it sees no
  // majority, but the evidence says one may serve).
  bool partitioned();
  // Members in TASK_RUNNING, /stats healthy, and exactly `size` of them.
  bool healthy_with(std::size_t size);
  // Host loss: through the dev cluster's control endpoint, or on a real
  // Mesos by killing the agent and everything it started.
  bool stop_agent(const std::string& agent_id);
  // The real Mesos, when the stack runs on one.
  RealMesos* real_mesos() { return real_mesos_.get(); }

  void start_scheduler();
  void stop_scheduler();
  // SIGKILL, reaped: the scheduler gets no chance to clean up.
  void kill_scheduler();
  ChildProcess* scheduler() { return scheduler_.get(); }
  // The scheduler's full command line for an admin port (scheduler_args
  // included), and another scheduler started with it (a standby), whose
  // admin interface answers before this returns. Logs go to `name` in the
  // stack's directory.
  std::vector<std::string> scheduler_argv(uint16_t admin_port) const;
  std::unique_ptr<ChildProcess> spawn_scheduler(uint16_t admin_port, const std::string& name,
                                                bool wait_for_admin = true);
  // Hands the stack's scheduler over to the caller (and `other` in), so that
  // a test can swap which process the stack's admin() talks to.
  std::unique_ptr<ChildProcess> swap_scheduler(std::unique_ptr<ChildProcess> other,
                                               uint16_t admin_port);
  std::string logs() const;  // dev cluster + scheduler output, for failure messages
  std::string scheduler_log() const;

 private:
  void prepare_scheduler_user();

  StackOptions options_;
  AgentNetworkLease network_;
  TempDir dir_;
  std::unique_ptr<ZooKeeperServer> zookeeper_;
  std::unique_ptr<ChildProcess> cluster_;
  std::unique_ptr<RealMesos> real_mesos_;
  std::unique_ptr<ChildProcess> scheduler_;
  uint16_t master_port_ = 0;
  uint16_t admin_port_ = 0;
  std::string first_agent_ip_;
  // Where the scheduler's binaries are taken from: the build tree, or copies
  // that scheduler_uid can read and execute.
  std::filesystem::path scheduler_bin_dir_;
};

}  // namespace etcdmesos::testing
