// The whole dev cluster: N masters (one leads, elected through ZooKeeper as
// real Mesos masters are), K agents, each master's HTTP server (scheduler
// API, /state, /health, /redirect, /control/...), leader failover, and the
// orderly exit that leaves no executor behind.
//
// Ownership: created by main on the io_context it runs on; owns everything.
// Agents talk to the leading master through this class (MasterLink) once
// they have (re-)registered with it; until then (no leader, or a new leader
// before the agent's re-registration came due) they keep their status
// updates.
// Errors: start-up failures are returned by start(); an expired ZooKeeper
// session is fatal (the callback given to on_fatal is called), as it is for
// a real master.
#pragma once

#include "agent.hpp"
#include "io/http.hpp"
#include "io/zk.hpp"
#include "master.hpp"
#include "master_link.hpp"
#include "options.hpp"

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace etcdmesos::devcluster {

class Cluster final : public MasterLink {
 public:
  // Retired master incarnations kept alive until their coroutines end.
  static constexpr std::size_t kMaxRetiredMasters = 64;
  static constexpr double kMaxFailoverGapSeconds = 3600;
  static constexpr double kMaxReregisterSeconds = 3600;
  // After a failover every agent re-registers with the new leader after a
  // random delay up to this, as a Mesos agent does with its default
  // --registration_backoff_factor.
  static constexpr std::chrono::milliseconds kReregistrationBackoff{1000};

  Cluster(boost::asio::any_io_executor ex, Options options);
  ~Cluster() override;
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Called with an exit code when the process must end (ZooKeeper session
  // expired).
  void on_fatal(std::function<void(int)> callback) { fatal_ = std::move(callback); }

  // Listens (every master, then every agent), announces the endpoints,
  // registers the masters in ZooKeeper and waits for a leader. An error is a
  // start-up failure.
  boost::asio::awaitable<Result<void>> start();
  // Ends subscriptions, SIGKILLs every executor tree and waits (bounded) for
  // them to be reaped, leaves ZooKeeper, stops listening.
  boost::asio::awaitable<void> shutdown();

  // MasterLink: to the leading master if the agent is registered with it;
  // else updates are kept by the agents (forward_status_update answers
  // true) and the rest is dropped.
  bool forward_status_update(const std::string& agent_id, const std::string& framework_id,
                             const mesos::TaskStatus& status,
                             mesos::TaskState latest_state) override;
  void task_state_changed(const std::string& agent_id, const std::string& framework_id,
                          const std::string& task_id, mesos::TaskState latest_state) override;
  void executor_terminated(const std::string& agent_id, const std::string& framework_id,
                           const std::string& executor_id, int wait_status) override;
  void executor_message(const std::string& agent_id, const std::string& framework_id,
                        const std::string& executor_id, std::string data) override;

 private:
  // One master process of a real cluster: a port, and the incarnation that
  // currently runs there (replaced by a fresh one after a failover).
  struct MasterSlot {
    std::unique_ptr<Master> master;
    std::unique_ptr<io::HttpServer> server;
    io::Endpoint endpoint;
    std::string zk_node;  // its json.info_ node name, empty when not registered
  };

  boost::asio::awaitable<void> handle_http(std::size_t slot, io::HttpExchange& exchange);
  boost::asio::awaitable<void> handle_standby(io::HttpExchange& exchange, std::string_view path);
  boost::asio::awaitable<void> handle_control(io::HttpExchange& exchange, std::string_view path);
  boost::asio::awaitable<void> handle_agent_control(io::HttpExchange& exchange,
                                                    std::string_view path);
  boost::asio::awaitable<void> handle_failover(io::HttpExchange& exchange);
  boost::asio::awaitable<void> finish_failover(std::size_t slot, std::chrono::milliseconds gap);
  // The seconds in query parameter `key` (absent: nullopt), or the 400
  // answer when it is not a number from 0 to `max_s`.
  static Result<std::optional<double>> seconds_parameter(const io::Request& req,
                                                         std::string_view key, double max_s);
  boost::json::array masters_json() const;

  boost::asio::awaitable<Result<void>> start_zk();
  boost::asio::awaitable<Result<void>> register_in_zk(std::size_t slot);
  // Reads the json.info_ children (and watches them); the lowest leads.
  boost::asio::awaitable<void> refresh_leader();
  void spawn_refresh_leader();
  // Applies an election result: a local slot, or a master elsewhere.
  void set_leader(std::optional<std::size_t> slot, std::optional<io::Endpoint> elsewhere);
  // Retires the incarnation at `slot` and starts a fresh standby there.
  void replace_master(std::size_t slot);
  Master* leader() const;
  // The master `agent_id` is registered with: the leader once the agent has
  // (re-)registered with it (Master::knows_agent), else none. A real agent
  // sends nothing to a new master before it has re-registered.
  Master* registered_master(std::string_view agent_id) const;

  // Agent re-registration with a newly elected leader: each agent after
  // its own delay (a failover's ?reregister=S, else random up to
  // kReregistrationBackoff); an agent that is down when its time comes
  // registers when it starts again.
  void schedule_reregistrations(Master& master);
  void cancel_reregistrations();
  void reregistration_due(const std::string& agent_id);
  void register_agent(Agent& agent, Master& master);

  Result<void> write_endpoint_file() const;
  Result<void> write_all_endpoints_file() const;
  Agent* find_agent(std::string_view id) const;

  boost::asio::any_io_executor ex_;
  Options options_;
  std::vector<MasterSlot> masters_;
  std::deque<std::unique_ptr<Master>> retired_masters_;
  std::vector<std::unique_ptr<Agent>> agents_;
  std::optional<std::size_t> leader_;            // the local slot that leads
  std::optional<io::Endpoint> leader_endpoint_;  // the leader's address, when one is known
  bool election_held_ = false;                   // a failover in progress: nobody leads
  uint64_t refresh_sequence_ = 0;
  bool leader_seen_ = false;  // the first leader learns the agents at once
  // Pending re-registrations with the current leader, by agent id.
  std::map<std::string, std::unique_ptr<boost::asio::steady_timer>> reregistrations_;
  // ?reregister=S of the failover in progress, for the next leader.
  std::optional<std::chrono::milliseconds> requested_reregister_delay_;
  std::mt19937_64 random_{std::random_device{}()};
  std::unique_ptr<io::ZkClient> zk_;
  std::string zk_path_;
  std::function<void(int)> fatal_;
};

}  // namespace etcdmesos::devcluster
